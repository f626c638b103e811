// Chinese words for the API's codes (roles, levels, kinds); identifiers stay English.
import type { RiskLevel } from './graphql/types'

export const ROLE_LABELS: Record<string, string> = {
  children_director: '儿童主任',
  children_supervisor: '儿童督导员',
  case_worker: '个案工作者',
  coordinator: '协调员',
  institution_staff: '机构工作人员',
  integrator: '系统对接方',
  auditor: '审计员',
  admin: '系统管理员',
}

export const LEVEL_LABELS: Record<RiskLevel, string> = {
  RED: '红色·紧急',
  YELLOW: '黄色·关注',
  BLUE: '蓝色·提示',
  GREEN: '绿色·正常',
}

export const REGION_LEVEL_LABELS: Record<string, string> = {
  province: '省',
  city: '市',
  county: '县',
  township: '乡镇',
  village: '村',
}

export const CONDITION_LABELS: Record<string, string> = {
  missing: '失联',
  imprisoned: '服刑在押',
  compulsory_rehab: '强制隔离戒毒',
  detained: '被限制人身自由',
  severe_disability: '重残',
  serious_illness: '重病',
  abuse_record: '有性侵害、虐待、遗弃等记录',
  substance_abuse: '有吸毒、酗酒、赌博记录',
  neglect_record: '有怠于履行照护职责记录',
}

export const REGISTRATION_LABELS: Record<string, string> = {
  left_behind: '农村留守儿童',
  de_facto_unsupported: '事实无人抚养儿童',
  orphan: '孤儿',
  in_difficulty: '困境儿童',
  disability: '残疾儿童',
}

export const LOW_INCOME_LABELS: Record<string, string> = {
  dibao: '低保',
  tekun: '特困',
  dibao_edge: '低保边缘',
  poverty_monitoring: '防返贫监测',
}

export const URGENCY_LABELS: Record<string, string> = { immediate: '紧急', high: '较急', normal: '一般' }

export const REFERRAL_STATUS_LABELS: Record<string, string> = {
  pending: '待接收',
  accepted: '已接收',
  declined: '已拒绝',
  completed: '已办结',
  withdrawn: '已撤回',
}

export const CASE_STAGE_LABELS: Record<string, string> = {
  reported: '发现报告',
  emergency_response: '应急处置',
  assessment: '评估帮扶',
  intervention: '监护干预',
  closed: '已结案',
}

export const VISIT_TYPE_LABELS: Record<string, string> = {
  home_visit: '入户走访',
  school_visit: '到校走访',
  phone_check: '电话回访',
}

export const CHANNEL_LABELS: Record<string, string> = {
  phone: '电话',
  video: '视频',
  in_person: '当面',
  message: '短信/微信',
}

export const REPORT_CATEGORY_LABELS: Record<string, string> = {
  neglect: '疏于照料',
  abuse: '虐待',
  abandonment: '遗弃',
  injury: '受伤',
  unsupervised: '无人看护',
  dropout: '辍学',
  mental_health: '心理健康',
  other: '其他',
}

export const REPORTER_ROLE_LABELS: Record<string, string> = {
  teacher: '教师',
  doctor: '医生',
  village_committee: '村委会',
  police: '公安',
  neighbor: '邻居',
  relative: '亲属',
  self: '儿童本人',
  other: '其他',
}

export const GUARDIAN_BASIS_LABELS: Record<string, string> = {
  parent: '父母',
  relative: '亲属',
  court_appointed: '法院指定',
  state: '国家监护',
}

export const PARENT_RELATION_LABELS: Record<string, string> = {
  biological: '亲生',
  adoptive: '收养',
  step: '继父母',
}

export const GENDER_LABELS: Record<string, string> = { F: '女', M: '男' }

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined) return '—'
  return table[code] ?? code
}


/** What a sweep did to an alert (`alertChanges`). */
export const SWEEP_CHANGE_LABELS: Record<string, string> = {
  raised: '新增',
  escalated: '升级',
  lowered: '降级',
  resolved: '解除',
}


export const SERVICE_LABELS: Record<string, string> = {
  psychological_support: '心理疏导',
  family_guidance: '家庭教育指导',
  emergency_shelter: '临时庇护',
  temporary_guardianship: '临时监护',
  long_term_guardianship: '长期监护',
  boarding: '寄宿',
  rehabilitation: '康复',
  education: '教育',
}


