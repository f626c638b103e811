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

export function label(table: Record<string, string>, code: string | null | undefined): string {
  if (code === null || code === undefined) return '—'
  return table[code] ?? code
}
