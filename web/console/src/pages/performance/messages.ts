export default {
  'zh-CN': {
    menu: { performance: '外勤绩效' },
    performance: {
      byPerson: '按人员',
      byTeam: '按团队',
      range: '日期范围',
      team: '团队',
      visits: '计划与完成',
      rates: '完成率与准时率（%）',
      time: '在客户处与途中（分钟）',
      table: '明细',
      empty: '该范围内没有数据',
      download: '导出 Excel',
    },
  },
  en: {
    menu: { performance: 'Performance' },
    performance: {
      byPerson: 'By person',
      byTeam: 'By team',
      range: 'Dates',
      team: 'Team',
      visits: 'Planned and done',
      rates: 'Completion and on-time rates (%)',
      time: 'At customers and travelling (min)',
      table: 'Details',
      empty: 'Nothing in this range',
      download: 'Download Excel',
    },
  },
}
