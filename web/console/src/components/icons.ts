/** The menu's icons by name (pages.ts names one): only these are bundled, not the whole set. */
import type { Component } from 'vue'
import {
  Calendar,
  Checked,
  DataAnalysis,
  Histogram,
  House,
  Location,
  OfficeBuilding,
  Setting,
  User,
} from '@element-plus/icons-vue'

export const icons: Record<string, Component> = {
  Calendar,
  Checked,
  DataAnalysis,
  Histogram,
  House,
  Location,
  OfficeBuilding,
  Setting,
  User,
}
