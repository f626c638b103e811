// The child's family, guardianship and care network as graph elements: who is linked to the
// child today, and how. Kept apart from the drawing so it can be read (and tested) as data.
// One person with several links (a mother who is also the guardian) is one node with one edge
// naming every link, so the picture stays readable on a tablet.
import type { ChildFile } from './graphql/types'
import { GUARDIAN_BASIS_LABELS, label } from './labels'

export type LinkKind = 'parent' | 'guardian' | 'care' | 'household'
export type NodeRole = 'child' | 'institution' | LinkKind

export interface NetNode {
  id: string
  name: string
  /** The strongest link, for the colour: care, then guardianship, parenthood, household. */
  role: NodeRole
  /** Away, dead or lacking capacity: drawn faded, and said in words. */
  absent: boolean
  note: string
}

export interface NetEdge {
  id: string
  source: string
  target: string
  kind: LinkKind
  label: string
  /** A care link without its written agreement. */
  unsigned: boolean
}

const STRENGTH: LinkKind[] = ['care', 'guardian', 'parent', 'household']

function current(interval: { since: string; until: string | null }, today: string): boolean {
  return interval.since <= today && (interval.until === null || interval.until >= today)
}

interface Tie {
  name: string
  kinds: Set<LinkKind>
  labels: string[]
  absent: boolean
  notes: string[]
  unsigned: boolean
  institution: boolean
}

export function networkOf(file: ChildFile, today: string): { nodes: NetNode[]; edges: NetEdge[] } {
  const ties = new Map<string, Tie>()
  const tie = (id: string, name: string, kind: LinkKind, text: string): Tie => {
    let t = ties.get(id)
    if (t === undefined) {
      t = { name, kinds: new Set(), labels: [], absent: false, notes: [], unsigned: false, institution: false }
      ties.set(id, t)
    }
    t.kinds.add(kind)
    if (!t.labels.includes(text)) t.labels.push(text)
    return t
  }
  for (const p of file.parents) {
    const t = tie(p.parent.id, p.parent.name, 'parent', '父母')
    const away = p.status.away
    if (p.status.dead) t.notes.push('已故')
    else if (away !== null) t.notes.push(`外出：${away.destination ?? '外地'}`)
    if (p.status.lacksCapacity && !p.status.dead) t.notes.push('无监护能力')
    t.absent = p.status.dead || away !== null || p.status.lacksCapacity
  }
  for (const g of file.guardians.filter((x) => current(x, today))) {
    const t = tie(g.id, g.name, 'guardian', `监护（${label(GUARDIAN_BASIS_LABELS, g.basis)}）`)
    t.institution = g.kind === 'institution'
  }
  for (const c of file.caregivers.filter((x) => current(x, today))) {
    const t = tie(c.caregiver.id, c.caregiver.name, 'care', c.agreementSignedOn === null ? '委托照护（未签协议）' : '委托照护')
    t.unsigned ||= c.agreementSignedOn === null
    if (c.caregiver.person?.age != null) t.notes.push(`${c.caregiver.person.age}岁`)
  }
  for (const m of file.household?.members ?? []) {
    if (m.id === file.id) continue
    const t = tie(m.id, m.name, 'household', '同户')
    if (m.deceasedOn !== null) {
      t.absent = true
      if (!t.notes.includes('已故')) t.notes.push('已故')
    }
  }
  const nodes: NetNode[] = [{ id: file.id, name: file.name, role: 'child', absent: false, note: '' }]
  const edges: NetEdge[] = []
  for (const [id, t] of ties) {
    const kind = STRENGTH.find((k) => t.kinds.has(k)) ?? 'household'
    // Living in the same household goes without saying once a closer link is named.
    const labels = t.labels.length > 1 ? t.labels.filter((l) => l !== '同户') : t.labels
    nodes.push({ id, name: t.name, role: t.institution ? 'institution' : kind, absent: t.absent, note: [...new Set(t.notes)].join('，') })
    edges.push({ id: `${kind}:${id}`, source: id, target: file.id, kind, label: labels.join('·'), unsigned: t.unsigned })
  }
  return { nodes, edges }
}
