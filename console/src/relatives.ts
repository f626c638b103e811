import type { Relative } from './graphql/types'

interface WithFamily {
  parents: { parent: { id: string; name: string } }[]
  guardians: { id: string; name: string; kind: string }[]
}

/** Who a contact can come from (the API accepts a parent or a guardian), each once. */
export function relativesOf(child: WithFamily): Relative[] {
  const out = new Map<string, Relative>()
  for (const p of child.parents) out.set(p.parent.id, { id: p.parent.id, name: p.parent.name, relation: '父母' })
  for (const g of child.guardians) {
    if (g.kind === 'person' && !out.has(g.id)) out.set(g.id, { id: g.id, name: g.name, relation: '监护人' })
  }
  return [...out.values()]
}
