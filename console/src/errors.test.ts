import { describe, expect, it } from 'vitest'
import { CombinedError } from '@urql/core'
import { formatError, isTransient, readable, readableGraphQLError } from './errors'

describe('error messages', () => {
  it('names the field of a BAD_USER_INPUT by its form label, with the reason in Chinese', () => {
    const error = readableGraphQLError({
      message: 'on: must not be in the future',
      extensions: { code: 'BAD_USER_INPUT', field: 'on' },
    })
    expect(error.title).toBe('“日期”填写有误：不能晚于今天')
    expect(error.field).toBe('on')
    expect(formatError(error)).toBe('“日期”填写有误：不能晚于今天。请按提示修改后重新提交。')
  })

  it('says what to do for each code and keeps the server words as detail', () => {
    const forbidden = readableGraphQLError({ message: 'the role children_director may not use openCase', extensions: { code: 'FORBIDDEN' } })
    expect(forbidden.title).toBe('您的角色或辖区不允许此操作')
    expect(forbidden.detail).toContain('openCase')
    const conflict = readableGraphQLError({
      message: 'this visit, with these notes, is already recorded; a second visit says what differs in notes',
      extensions: { code: 'CONFLICT' },
    })
    expect(conflict.title).toBe('这条记录已经登记过')
    // A code the console does not know yet reads like an internal error, not like nothing.
    expect(readableGraphQLError({ message: 'x', extensions: { code: 'NEW_CODE' } }).title).toBe('服务器内部错误')
  })

  it('tells a network failure from a refusal, and which are worth retrying', () => {
    const offline = readable(new CombinedError({ networkError: new TypeError('Failed to fetch') }))
    expect(offline.network).toBe(true)
    expect(isTransient(offline)).toBe(true)
    const down = readable(new CombinedError({ graphQLErrors: [{ message: 'db', extensions: { code: 'DATABASE_UNAVAILABLE' } }] }))
    expect(isTransient(down)).toBe(true)
    const bad = readable(new CombinedError({ graphQLErrors: [{ message: 'type: bad', extensions: { code: 'BAD_USER_INPUT', field: 'type' } }] }))
    expect(isTransient(bad)).toBe(false)
    expect(bad.title).toBe('“类型”填写有误')
  })
})
