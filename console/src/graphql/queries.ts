// Every GraphQL document the console sends, one per page where possible. Names and fields are
// those of schema.graphql at the repository root.

export const ME = /* GraphQL */ `
  query Me {
    me {
      sub
      role
      region
      institutionId
      operations
      scope { code name level }
      person { id name }
    }
  }
`

export const RECORD_VISIT = /* GraphQL */ `
  mutation RecordVisit($input: VisitInput!) {
    recordVisit(input: $input) { id childId visitorId on type notes }
  }
`

export const RECORD_CONTACT = /* GraphQL */ `
  mutation RecordContact($input: ContactInput!) {
    recordContact(input: $input) { id childId fromId on channel }
  }
`
