// What every action form shares: a clientMutationId generated once when the form opens and kept
// through retries, until the action is done; the pending flag; the readable error.
import { ref } from 'vue'
import { todayInChina, uuid4 } from '@/ids'
import type { ReadableError } from '@/errors'

export function useAction() {
  const clientMutationId = ref(uuid4())
  const submitting = ref(false)
  const error = ref<ReadableError | null>(null)

  /** Runs `work` once at a time; a new id only after it succeeded. */
  async function run(work: (id: string) => Promise<ReadableError | null>): Promise<boolean> {
    if (submitting.value) return false
    submitting.value = true
    error.value = null
    try {
      error.value = await work(clientMutationId.value)
    } finally {
      submitting.value = false
    }
    if (error.value !== null) return false
    clientMutationId.value = uuid4()
    return true
  }

  return { clientMutationId, submitting, error, run, today: todayInChina() }
}
