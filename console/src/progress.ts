import { computed, ref } from 'vue'

/** Requests in flight; the shell shows a progress bar while any is slow. */
export const pending = ref(0)
export const busy = computed(() => pending.value > 0)
