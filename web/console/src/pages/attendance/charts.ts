/** The attendance summaries' chart colours (the charts themselves: `components/EChart.vue`). */
export type { ChartOption } from '../../components/echarts'

/** The series colours, the month grid's: late orange, early amber, missing purple, absent red. */
export const SERIES_COLOURS = {
  late: '#e58a00',
  early: '#c99a00',
  missing: '#8e44ad',
  absent: '#c4231c',
  leave: '#1561d4',
  rate: '#0a7d3b',
}
