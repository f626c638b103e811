// Result shapes of the documents in queries.ts, written by hand against schema.graphql.

export type RiskLevel = 'RED' | 'YELLOW' | 'BLUE' | 'GREEN'

export interface MeResult {
  me: {
    sub: string
    role: string
    region: string | null
    institutionId: string | null
    operations: string[]
    scope: { code: string; name: string; level: string } | null
    person: { id: string; name: string } | null
  }
}

/** Someone a contact can come from: a parent or a guardian of the child. */
export interface Relative {
  id: string
  name: string
  /** 父母 or 监护人, for the choice. */
  relation: string
}

export interface PageInfo {
  hasNextPage: boolean
  endCursor: string | null
}

export interface WorkStep {
  action: string
  actionText: string
  level: RiskLevel
  rule: string | null
  dueOn: string | null
}

export interface WorkItem {
  level: RiskLevel
  action: string
  actionText: string
  dueOn: string | null
  overdue: boolean
  since: string | null
  reasons: string[]
  lastVisitOn: string | null
  steps: WorkStep[]
  child: {
    id: string
    name: string
    age: number | null
    gender: string | null
    parents: { relation: string | null; parent: { id: string; name: string } }[]
    guardians: { id: string; name: string; kind: string }[]
  }
}

export interface WorklistResult {
  worklist: {
    totalCount: number
    pageInfo: PageInfo
    edges: { cursor: string; node: WorkItem }[]
  }
}

/** A visit or contact about to be recorded for a child, from a worklist row or the child's file. */
export interface FieldAction {
  kind: 'visit' | 'contact'
  childId: string
  childName: string
  relatives: Relative[]
}

export interface Interval {
  since: string
  until: string | null
}

export interface AwayEpisode extends Interval {
  destination: string | null
  destinationRegion: string | null
}

export interface Member {
  id: string
  name: string
  gender: string | null
  birthDate: string | null
  age: number | null
  phone: string | null
  deceasedOn: string | null
}

export interface Evidence {
  kind: string
  id: string | null
  key: string | null
  personId: string | null
  caregiverId: string | null
  caseId: string | null
  type: string | null
  category: string | null
  urgency: string | null
  status: string | null
  on: string | null
  at: string | null
  since: string | null
  until: string | null
  dueOn: string | null
  days: number | null
  count: number | null
  values: string[]
}

export interface Finding {
  rule: string
  level: RiskLevel
  evidence: Evidence[]
}

export interface HistoryEntry {
  at: string
  by: string | null
  note: string | null
}

export interface ChildReferral {
  id: string
  service: string
  on: string
  dueOn: string
  status: string
  reason: string | null
  institutionId: string | null
  institution: { id: string; name: string } | null
  history: (HistoryEntry & { status: string })[]
}

export interface ChildCase {
  id: string
  openedOn: string
  stage: string
  urgency: string
  dueAt: string | null
  overdue: boolean
  history: (HistoryEntry & { stage: string })[]
  referrals: ChildReferral[]
}

export interface TimelineEvent {
  kind: string
  on: string
  at: string | null
  subjectId: string
  value: string | null
  detail: string | null
  actor: string | null
  note: string | null
}

export interface ChildFile {
  id: string
  name: string
  gender: string | null
  birthDate: string | null
  age: number | null
  idNumber: string | null
  phone: string | null
  deceasedOn: string | null
  village: { code: string; name: string } | null
  household: {
    id: string
    address: string | null
    lowIncome: string[]
    regionCode: string
    village: { code: string; name: string } | null
    members: Member[]
  } | null
  parents: {
    relation: string | null
    parent: { id: string; name: string; inScope: boolean; person: (Omit<Member, 'name'>) | null }
    status: {
      dead: boolean
      lacksCapacity: boolean
      away: AwayEpisode | null
      conditions: (Interval & { type: string })[]
    }
    awayHistory: AwayEpisode[]
  }[]
  guardians: (Interval & {
    id: string
    name: string
    kind: string
    inScope: boolean
    basis: string | null
    person: { id: string; phone: string | null } | null
  })[]
  caregivers: (Interval & {
    caregiver: { id: string; name: string; inScope: boolean; person: { id: string; phone: string | null; age: number | null } | null }
    agreementSignedOn: string | null
    entrustedBy: { id: string; name: string } | null
  })[]
  enrollments: (Interval & { institutionId: string; institutionName: string | null; grade: string | null; boarding: boolean | null })[]
  placements: (Interval & { institutionId: string; institutionName: string | null; kind: string | null })[]
  pairings: (Interval & { volunteer: { id: string; name: string } })[]
  registrations: (Interval & { category: string })[]
  conditions: (Interval & { type: string })[]
  cases: ChildCase[]
  recentVisits: { on: string; type: string; notes: string | null; by: { id: string; name: string } }[]
  recentContacts: { on: string; channel: string; by: { id: string; name: string } }[]
}

export interface ChildFileResult {
  child: ChildFile | null
  riskProfile: { level: RiskLevel; findings: Finding[] } | null
  timeline: TimelineEvent[]
}

/** A current care record waiting for its written agreement. */
export interface CareChoice {
  caregiverId: string
  name: string
  since: string
}

/** One guardianship or care record on the child's timeline. */
export interface TimelineRow {
  id: string
  who: string
  what: string
  kind: 'guardian' | 'care'
  since: string
  until: string | null
  mark: { on: string; label: string } | null
  warning: string | null
}

export interface SearchPersonsResult {
  searchPersons: {
    id: string
    name: string
    gender: string | null
    birthDate: string | null
    age: number | null
    village: { name: string } | null
    household: { id: string; address: string | null } | null
  }[]
}
