// Findings and their evidence in plain Chinese. Rule identifiers stay visible (small) beside
// the label, so a worker can look a rule up in docs/discovery.md; the evidence becomes one
// sentence per record, with people named where the child's file knows them.
import {
  CASE_STAGE_LABELS,
  CHANNEL_LABELS,
  CONDITION_LABELS,
  GUARDIAN_BASIS_LABELS,
  LEVEL_LABELS,
  LOW_INCOME_LABELS,
  REFERRAL_STATUS_LABELS,
  REGISTRATION_LABELS,
  REPORT_CATEGORY_LABELS,
  URGENCY_LABELS,
  VISIT_TYPE_LABELS,
  label,
} from './labels'
import type { RiskLevel, TimelineEvent } from './graphql/types'

export const RULE_LABELS: Record<string, string> = {
  NO_CAREGIVER: '无人照护',
  CAREGIVER_UNFIT: '照护人不适格',
  UNREGISTERED_DE_FACTO_UNSUPPORTED: '事实无人抚养儿童未认定',
  REPORT_UNHANDLED: '报告未处置',
  CAREGIVER_INCAPABLE: '照护人无照护能力',
  CONTACT_LAPSE: '亲子联系中断',
  VISIT_OVERDUE: '入户走访逾期',
  OUT_OF_SCHOOL: '适龄未在校',
  UNREGISTERED_LEFT_BEHIND: '留守儿童未登记',
  REFERRAL_OVERDUE: '转介逾期',
  NO_WRITTEN_AGREEMENT: '未签书面委托照护协议',
  CAREGIVER_OVERLOAD: '照护人负担过重',
  UNPAIRED: '未安排结对帮扶',
  LOW_INCOME_HOUSEHOLD: '低收入家庭',
}

export function ruleLabel(rule: string): string {
  return RULE_LABELS[rule] ?? rule
}

/** The fields of `Evidence` the console reads. */
export interface EvidenceLike {
  kind: string
  id?: string | null
  key?: string | null
  personId?: string | null
  caregiverId?: string | null
  caseId?: string | null
  type?: string | null
  category?: string | null
  urgency?: string | null
  status?: string | null
  on?: string | null
  at?: string | null
  since?: string | null
  until?: string | null
  dueOn?: string | null
  days?: number | null
  count?: number | null
  values?: readonly string[] | null
}

/** "2026-03-07" as 2026年3月7日; an instant by its day. */
export function chineseDate(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '（日期不详）'
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(value)
  if (match === null) return value
  return `${Number(match[1])}年${Number(match[2])}月${Number(match[3])}日`
}

export type NameOf = (id: string | null | undefined) => string

/** Names the people of the child's file by id; anyone else is "某人（id）" so nothing is hidden. */
export function namer(names: ReadonlyMap<string, string>): NameOf {
  return (id) => {
    if (id === null || id === undefined) return '某人'
    return names.get(id) ?? `某人（${id}）`
  }
}

export function evidenceSentence(ev: EvidenceLike, name: NameOf): string {
  switch (ev.kind) {
    case 'parent':
      return `父母：${name(ev.id)}`
    case 'away':
      return `${name(ev.personId)}自${chineseDate(ev.since)}外出${ev.until ? `，至${chineseDate(ev.until)}` : '，至今未归'}`
    case 'condition':
      return `${name(ev.personId)}自${chineseDate(ev.since)}起${label(CONDITION_LABELS, ev.type)}`
    case 'death':
      return `${name(ev.personId)}已于${chineseDate(ev.on)}去世`
    case 'birth':
      return `出生于${chineseDate(ev.on)}`
    case 'registration':
      return `自${chineseDate(ev.since)}登记为${label(REGISTRATION_LABELS, ev.category)}`
    case 'caregiver': {
      const parts = [`照护人${name(ev.id)}`]
      if (ev.on) parts.push(`出生于${chineseDate(ev.on)}`)
      if (typeof ev.count === 'number') parts.push(`同时照护${ev.count}名儿童`)
      return parts.join('，')
    }
    case 'care':
      return `照护人${name(ev.caregiverId)}自${chineseDate(ev.since)}起照护`
    case 'contact':
      return `最近一次亲子联系在${chineseDate(ev.on)}（${name(ev.personId)}），距今${ev.days ?? '?'}天`
    case 'visit':
      return `最近一次入户走访在${chineseDate(ev.on)}（走访人${name(ev.personId)}），距今${ev.days ?? '?'}天`
    case 'report':
      return `${chineseDate(ev.on ?? ev.at)}收到${label(URGENCY_LABELS, ev.urgency)}报告（编号 ${ev.id ?? '—'}），至今未立案`
    case 'referral':
      return `转介（编号 ${ev.id ?? '—'}）${label(REFERRAL_STATUS_LABELS, ev.status)}，应于${chineseDate(ev.dueOn)}前办结，已逾期`
    case 'enrollment':
      return `最近一次在校记录：${name(ev.id)}，自${chineseDate(ev.since)}${ev.until ? `至${chineseDate(ev.until)}` : ''}`
    case 'household':
      return `家庭（${ev.id ?? '—'}）为${(ev.values ?? []).map((v) => label(LOW_INCOME_LABELS, v)).join('、') || '低收入'}户`
    default: {
      const detail = [ev.id, ev.personId, ev.type, ev.category, ev.on, ev.since].filter((v) => v)
      return `${ev.kind}${detail.length > 0 ? `：${detail.join('，')}` : ''}`
    }
  }
}

export const EVENT_LABELS: Record<string, string> = {
  report: '报告',
  case_stage: '个案阶段',
  referral_status: '转介状态',
  visit: '走访',
  contact: '联系',
  care_started: '开始委托照护',
  care_ended: '结束委托照护',
  care_agreement_signed: '签订照护协议',
  guardian_set: '确定监护人',
  guardian_ended: '监护结束',
  alert: '预警',
  away_started: '父母外出',
  away_ended: '父母返乡',
  condition_started: '情况开始',
  condition_ended: '情况结束',
  registered: '登记',
  deregistered: '取消登记',
  enrolled: '入学',
  enrollment_ended: '离校',
  placed: '安置',
  placement_ended: '结束安置',
  paired: '结对帮扶',
  unpaired: '结束结对',
  file_corrected: '更正档案',
}

/** The value of an event, by its kind, in Chinese (see TimelineEvent.value in schema.graphql). */
function eventValue(e: TimelineEvent, name: NameOf): string | null {
  const v = e.value
  switch (e.kind) {
    case 'visit':
      return `${label(VISIT_TYPE_LABELS, v)}（${name(e.subjectId)}）`
    case 'contact':
      return `${name(e.subjectId)}通过${label(CHANNEL_LABELS, v)}`
    case 'report':
      return `${label(REPORT_CATEGORY_LABELS, v)}（${label(URGENCY_LABELS, e.detail)}）`
    case 'case_stage':
      return label(CASE_STAGE_LABELS, v)
    case 'referral_status':
      return `${label(REFERRAL_STATUS_LABELS, v)}${e.detail ? `（${e.detail}）` : ''}`
    case 'registered':
    case 'deregistered':
      return label(REGISTRATION_LABELS, v)
    case 'guardian_set':
    case 'guardian_ended':
      return `${name(e.subjectId)}（${label(GUARDIAN_BASIS_LABELS, v)}）`
    case 'condition_started':
    case 'condition_ended':
      return `${name(e.subjectId)}${label(CONDITION_LABELS, v)}`
    case 'away_started':
    case 'away_ended':
      return `${name(e.subjectId)}${v ? `，${v}` : ''}`
    case 'care_started':
    case 'care_ended':
    case 'care_agreement_signed':
    case 'paired':
    case 'unpaired':
      return name(e.subjectId)
    case 'enrolled':
    case 'enrollment_ended':
      return `${name(e.subjectId)}${v ? `，${/^\d+$/.test(v) ? `${v}年级` : v}` : ''}`
    case 'alert': {
      const [rule, level] = (e.detail ?? '').split(' ')
      const levelWord = level ? LEVEL_LABELS[level.toUpperCase() as RiskLevel] : undefined
      return `${rule ? ruleLabel(rule) : ''}${levelWord ? `，${levelWord}` : ''}${v === 'open' ? '' : v ? `（${v}）` : ''}`
    }
    case 'file_corrected':
      return label(FILE_OPERATIONS, v)
    default:
      return v
  }
}

const FILE_OPERATIONS: Record<string, string> = {
  correctPerson: '更正个人信息',
  correctHousehold: '更正家庭信息',
  createPerson: '新增人员',
  createHousehold: '新增家庭',
  movePerson: '迁入其他家庭',
  linkParent: '关联父母',
  endParentLink: '解除父母关联',
}

/** One line of the child's timeline. */
export function eventSentence(e: TimelineEvent, name: NameOf): string {
  const value = eventValue(e, name)
  return `${EVENT_LABELS[e.kind] ?? e.kind}${value ? `：${value}` : ''}${e.note ? `。${e.note}` : ''}`
}
