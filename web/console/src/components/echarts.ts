/**
 * ECharts for the console's report pages (attendance summaries, field performance), only the parts
 * they draw (echarts/core, bar and line charts, dataset, grid, tooltip, legend, the canvas
 * renderer): not the whole library.
 */
import { BarChart, LineChart } from 'echarts/charts'
import { DatasetComponent, GridComponent, LegendComponent, TooltipComponent } from 'echarts/components'
import * as echarts from 'echarts/core'
import { CanvasRenderer } from 'echarts/renderers'

echarts.use([BarChart, LineChart, DatasetComponent, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer])

export { echarts }
export type ChartOption = Parameters<echarts.ECharts['setOption']>[0]
