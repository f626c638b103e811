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

export const WORKLIST = /* GraphQL */ `
  query Worklist($first: Int, $after: String) {
    worklist(first: $first, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        cursor
        node {
          level
          action
          actionText
          dueOn
          overdue
          since
          reasons
          lastVisitOn
          steps { action actionText level rule dueOn }
          child {
            id
            name
            age
            gender
            parents { relation parent { id name } }
            guardians { id name kind }
          }
        }
      }
    }
  }
`

const EVIDENCE_FIELDS = /* GraphQL */ `
  kind id key personId caregiverId caseId type category urgency status on at since until dueOn days count values
`

/** Everything of one child's file (一人一档) in one request. */
export const CHILD_FILE = /* GraphQL */ `
  query ChildFile($id: ID!) {
    child(id: $id) {
      id name gender birthDate age idNumber phone deceasedOn
      village { code name }
      household {
        id address lowIncome regionCode
        village { code name }
        members { id name gender birthDate age phone deceasedOn }
      }
      parents {
        relation
        parent { id name inScope person { id phone gender birthDate age deceasedOn } }
        status { dead lacksCapacity away { since until destination destinationRegion } conditions { type since until } }
        awayHistory { since until destination destinationRegion }
      }
      guardians(includeHistory: true) { id name kind inScope basis since until person { id phone } }
      caregivers(includeHistory: true) {
        caregiver { id name inScope person { id phone age } }
        since until agreementSignedOn
        entrustedBy { id name }
      }
      enrollments(includeHistory: true) { institutionId institutionName since until grade boarding }
      placements { institutionId institutionName kind since until }
      pairings(includeHistory: true) { volunteer { id name } since until }
      registrations(includeHistory: true) { category since until }
      conditions(includeHistory: true) { type since until }
      cases {
        id openedOn stage urgency dueAt overdue
        history { stage at by note }
        referrals { id service on dueOn status reason institutionId institution { id name } history { status at by note } }
      }
      recentVisits(first: 10) { on type notes by { id name } }
      recentContacts(first: 10) { on channel by { id name } }
    }
    riskProfile(childId: $id) { level findings { rule level evidence { ${EVIDENCE_FIELDS} } } }
    timeline(childId: $id) { kind on at subjectId value detail actor note }
  }
`

export const SIGN_CARE_AGREEMENT = /* GraphQL */ `
  mutation SignCareAgreement($caregiverId: ID!, $childId: ID!, $since: Date!, $signedOn: Date, $clientMutationId: String) {
    signCareAgreement(caregiverId: $caregiverId, childId: $childId, since: $since, signedOn: $signedOn, clientMutationId: $clientMutationId) {
      id agreementSignedOn
    }
  }
`

export const REPORT_CONCERN = /* GraphQL */ `
  mutation ReportConcern($input: ReportInput!) {
    reportConcern(input: $input) { id at category urgency }
  }
`

export const CORRECT_PERSON = /* GraphQL */ `
  mutation CorrectPerson($id: ID!, $input: PersonDetails!, $note: String, $clientMutationId: String) {
    correctPerson(id: $id, input: $input, note: $note, clientMutationId: $clientMutationId) { id name gender birthDate phone deceasedOn }
  }
`

export const CORRECT_HOUSEHOLD = /* GraphQL */ `
  mutation CorrectHousehold($id: ID!, $input: HouseholdInput!, $note: String, $clientMutationId: String) {
    correctHousehold(id: $id, input: $input, note: $note, clientMutationId: $clientMutationId) { id address lowIncome }
  }
`

export const SEARCH_PERSONS = /* GraphQL */ `
  query SearchPersons($name: String, $birthDate: Date, $first: Int) {
    searchPersons(name: $name, birthDate: $birthDate, first: $first) {
      id name gender birthDate age
      village { name }
      household { id address }
    }
  }
`
