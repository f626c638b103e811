// API errors as messages a children's director can act on: what went wrong and what to do.
// The server's `extensions.code` is stable (docs/graphql.md, Errors); BAD_USER_INPUT names the
// field, which we translate to the label the form shows.
import type { CombinedError } from '@urql/core'

export interface ReadableError {
  code: string
  field: string | null
  /** What went wrong, in Chinese. */
  title: string
  /** What to do about it, in Chinese. */
  advice: string
  /** The server's own words, kept for support staff. */
  detail: string
  /** The request never reached the server (or its answer never came back). */
  network: boolean
}

export const FIELD_LABELS: Record<string, string> = {
  childId: '儿童',
  visitorId: '走访人',
  visitor: '走访人',
  type: '类型',
  on: '日期',
  notes: '备注',
  note: '备注',
  fromId: '联系人',
  from: '联系人',
  channel: '联系方式',
  caregiverId: '受委托照护人',
  caregiver: '受委托照护人',
  since: '开始日期',
  until: '结束日期',
  signedOn: '签订日期',
  name: '姓名',
  gender: '性别',
  birthDate: '出生日期',
  phone: '电话',
  deceasedOn: '死亡日期',
  address: '地址',
  villageCode: '所在村',
  village: '所在村',
  lowIncome: '低保情况',
  concern: '关切事项',
  category: '类别',
  description: '情况描述',
  reporterId: '报告人',
  clientMutationId: '操作编号',
  idNumber: '身份证号',
  reason: '原因',
  decision: '处理决定',
  input: '填写内容',
}

const BY_CODE: Record<string, { title: string; advice: string }> = {
  UNAUTHENTICATED: {
    title: '登录已失效或令牌无效',
    advice: '请重新登录后再试。',
  },
  FORBIDDEN: {
    title: '您的角色或辖区不允许此操作',
    advice: '请确认该儿童在您的辖区内；如需办理，请联系乡镇或县级工作人员。',
  },
  NOT_FOUND: {
    title: '没有找到该记录',
    advice: '记录可能不存在或不在您的辖区内，请返回列表重新选择。',
  },
  BAD_USER_INPUT: {
    title: '填写的内容有误',
    advice: '请按提示修改后重新提交。',
  },
  CONFLICT: {
    title: '该操作与现有记录冲突',
    advice: '记录可能已被他人更新或已登记过，请刷新页面查看最新情况。',
  },
  DATABASE_UNAVAILABLE: {
    title: '服务器数据库暂时不可用',
    advice: '请稍后再试；走访和联系记录可先保存到离线队列。',
  },
  LIMIT_EXCEEDED: {
    title: '请求过于频繁或过大',
    advice: '请稍等一分钟后再试，或缩小查询范围。',
  },
  INTERNAL: {
    title: '服务器内部错误',
    advice: '请稍后再试；如果反复出现，请联系系统管理员。',
  },
}

const NETWORK = {
  title: '无法连接服务器',
  advice: '请检查网络；恢复连接后再试。',
}

function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field
}

/** Reasons the server writes in English, said in Chinese where we know them. */
const REASONS: [RegExp, string][] = [
  [/never in the future|in the future/i, '不能晚于今天'],
  [/before (the child's |their )?birth/i, '不能早于出生日期'],
  [/is neither a parent nor a guardian/i, '不是该儿童的父母或监护人'],
  [/must be one of|not one of|unknown (type|channel|value)/i, '不是允许的选项'],
  [/required|must not be empty|is empty/i, '必须填写'],
  [/already recorded/i, '已经登记过'],
  [/not in (your|the caller's) scope|out of (scope|reach)/i, '不在您的辖区内'],
]

function reasonInChinese(message: string): string | null {
  for (const [pattern, text] of REASONS) if (pattern.test(message)) return text
  return null
}

interface GraphQLErrorLike {
  message: string
  extensions?: Record<string, unknown>
}

export function readableGraphQLError(error: GraphQLErrorLike): ReadableError {
  const ext = error.extensions ?? {}
  const code = typeof ext.code === 'string' ? ext.code : 'INTERNAL'
  const field = typeof ext.field === 'string' ? ext.field : null
  const known = BY_CODE[code] ?? BY_CODE.INTERNAL!
  let title = known.title
  if (code === 'BAD_USER_INPUT' && field !== null) {
    const reason = reasonInChinese(error.message)
    title = `“${fieldLabel(field)}”填写有误${reason !== null ? `：${reason}` : ''}`
  } else if (code === 'CONFLICT') {
    const reason = reasonInChinese(error.message)
    if (reason === '已经登记过') title = '这条记录已经登记过'
  }
  return { code, field, title, advice: known.advice, detail: error.message, network: false }
}

export function networkError(detail: string): ReadableError {
  return { code: 'NETWORK', field: null, ...NETWORK, detail, network: true }
}

/** The first error of an urql result, readable. */
export function readable(error: CombinedError): ReadableError {
  const first = error.graphQLErrors[0]
  if (first !== undefined) return readableGraphQLError(first)
  return networkError(error.networkError?.message ?? error.message)
}

/** Whether the failure means "try again later" (offline, server down) rather than "fix this". */
export function isTransient(error: ReadableError): boolean {
  return error.network || error.code === 'DATABASE_UNAVAILABLE' || error.code === 'LIMIT_EXCEEDED'
}

export function formatError(error: ReadableError): string {
  return `${error.title}。${error.advice}`
}
