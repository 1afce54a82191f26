/**
 * ECharts for the attendance summaries, only the parts they use (echarts/core, bar and line
 * charts, the grid, tooltip and legend, the canvas renderer): not the whole library.
 */
import { BarChart, LineChart } from 'echarts/charts'
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, DatasetComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
export type ChartOption = Parameters<echarts.ECharts['setOption']>[0]

/** The series colours, the month grid's: late orange, early amber, missing purple, absent red. */
export const SERIES_COLOURS = {
  late: '#e58a00',
  early: '#c99a00',
  missing: '#8e44ad',
  absent: '#c4231c',
  leave: '#1561d4',
  rate: '#0a7d3b',
}
