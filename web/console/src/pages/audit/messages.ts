export default {
  'zh-CN': {
    menu: { audit: '操作日志' },
    audit: {
      at: '时间',
      actor: '操作人',
      action: '操作',
      subject: '对象',
      subjectType: '对象类型',
      subjectId: '对象 ID',
      apiKey: 'API 密钥 {id}',
      find: '查询',
      more: '加载更多',
    },
  },
  en: {
    menu: { audit: 'Audit log' },
    audit: {
      at: 'Time',
      actor: 'By',
      action: 'Action',
      subject: 'Record',
      subjectType: 'Record type',
      subjectId: 'Record ID',
      apiKey: 'API key {id}',
      find: 'Search',
      more: 'Load more',
    },
  },
}
