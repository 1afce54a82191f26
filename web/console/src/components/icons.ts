/** The menu's icons by name (pages.ts names one): only these are bundled, not the whole set. */
import type { Component } from 'vue'
import {
  Briefcase,
  Calendar,
  Checked,
  DataAnalysis,
  Histogram,
  House,
  Location,
  MapLocation,
  OfficeBuilding,
  Setting,
  TrendCharts,
  User,
} from '@element-plus/icons-vue'

export const icons: Record<string, Component> = {
  Briefcase,
  Calendar,
  Checked,
  DataAnalysis,
  Histogram,
  House,
  Location,
  MapLocation,
  OfficeBuilding,
  Setting,
  TrendCharts,
  User,
}
