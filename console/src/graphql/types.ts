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
