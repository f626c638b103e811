// The region dashboard's and the referral inbox's documents and result shapes (schema.graphql).
import type { RiskLevel } from './types'

export const DASHBOARD = /* GraphQL */ `
  query Dashboard($region: String!, $withCases: Boolean!) {
    statistics(region: $region) {
      region
      asOf
      children
      byLevel { level count }
      byRule { rule count }
      visitCoverage { population covered rate }
      contactCoverage { population covered rate }
    }
    attention: discover(region: $region, minLevel: BLUE, first: 1) { totalCount }
    red: discover(region: $region, minLevel: RED, first: 1) { totalCount }
    alertChanges(region: $region) {
      sweepId
      changes { change alertId childId rule level child { id name } }
    }
    alerts(region: $region, status: "open") {
      id childId rule level raisedOn dueOn overdue tier
      child { id name }
      owner { id name }
      escalatedTo { id name }
    }
    cases(region: $region, overdue: true, first: 100) @include(if: $withCases) {
      totalCount
      edges { node { id childId openedOn stage urgency child { id name } } }
    }
  }
`

interface Coverage {
  population: number
  covered: number
  rate: number | null
}

interface Named {
  id: string
  name: string
}

export interface DashboardResult {
  statistics: {
    region: string
    asOf: string
    children: number
    byLevel: { level: RiskLevel; count: number }[]
    byRule: { rule: string; count: number }[]
    visitCoverage: Coverage
    contactCoverage: Coverage
  }
  attention: { totalCount: number }
  red: { totalCount: number }
  alertChanges: {
    sweepId: string | null
    changes: { change: string; alertId: string; childId: string; rule: string; level: RiskLevel; child: Named | null }[]
  }
  alerts: {
    id: string
    childId: string
    rule: string
    level: RiskLevel
    raisedOn: string
    dueOn: string | null
    overdue: boolean
    tier: number
    child: Named | null
    owner: Named | null
    escalatedTo: Named | null
  }[]
  cases?: {
    totalCount: number
    edges: { node: { id: string; childId: string; openedOn: string; stage: string; urgency: string; child: Named | null } }[]
  }
}

export const REFERRAL_INBOX = /* GraphQL */ `
  query ReferralInbox {
    referralInbox {
      id service on dueOn status reason childName childAge updatedAt
      history { status at note }
    }
  }
`

export const RESPOND_TO_REFERRAL = /* GraphQL */ `
  mutation RespondToReferral($referralId: ID!, $decision: String!, $note: String, $clientMutationId: String) {
    respondToReferral(referralId: $referralId, decision: $decision, note: $note, clientMutationId: $clientMutationId) {
      id status updatedAt history { status at note }
    }
  }
`

export interface InboxReferral {
  id: string
  service: string
  on: string
  dueOn: string
  status: string
  reason: string | null
  childName: string | null
  childAge: number | null
  updatedAt: string | null
  history: { status: string; at: string; note: string | null }[]
}

export interface ReferralInboxResult {
  referralInbox: InboxReferral[]
}
