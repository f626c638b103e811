import { describe, expect, it } from 'vitest'
import { chineseDate, eventSentence, evidenceSentence, namer, ruleLabel, RULE_LABELS } from './wording'

const name = namer(new Map([
  ['P1', '张建国'],
  ['P2', '李兰'],
]))

describe('evidence wording', () => {
  it('names every discovery rule in Chinese and keeps unknown ones as they are', () => {
    const rules = [
      'NO_CAREGIVER', 'CAREGIVER_UNFIT', 'UNREGISTERED_DE_FACTO_UNSUPPORTED', 'REPORT_UNHANDLED',
      'CAREGIVER_INCAPABLE', 'CONTACT_LAPSE', 'VISIT_OVERDUE', 'OUT_OF_SCHOOL', 'UNREGISTERED_LEFT_BEHIND',
      'REFERRAL_OVERDUE', 'NO_WRITTEN_AGREEMENT', 'CAREGIVER_OVERLOAD', 'UNPAIRED', 'LOW_INCOME_HOUSEHOLD',
    ]
    expect(Object.keys(RULE_LABELS).sort()).toEqual([...rules].sort())
    expect(ruleLabel('VISIT_OVERDUE')).toBe('入户走访逾期')
    expect(ruleLabel('SOME_NEW_RULE')).toBe('SOME_NEW_RULE')
  })

  it('writes dates the Chinese way, instants by their day', () => {
    expect(chineseDate('2022-03-07')).toBe('2022年3月7日')
    expect(chineseDate('2026-11-30T16:05:00+00:00')).toBe('2026年11月30日')
    expect(chineseDate(null)).toBe('（日期不详）')
  })

  it('turns each kind of evidence into a sentence naming the people of the file', () => {
    expect(evidenceSentence({ kind: 'away', personId: 'P1', since: '2022-03-07' }, name)).toBe(
      '张建国自2022年3月7日外出，至今未归',
    )
    expect(evidenceSentence({ kind: 'visit', personId: 'P2', on: '2026-10-08', days: 54 }, name)).toBe(
      '最近一次入户走访在2026年10月8日（走访人李兰），距今54天',
    )
    expect(
      evidenceSentence({ kind: 'condition', personId: 'P2', type: 'neglect_record', since: '2016-04-26' }, name),
    ).toBe('李兰自2016年4月26日起有怠于履行照护职责记录')
    expect(evidenceSentence({ kind: 'death', personId: 'P1', on: '2020-02-15' }, name)).toBe('张建国已于2020年2月15日去世')
    expect(evidenceSentence({ kind: 'household', id: 'H1', values: ['dibao', 'tekun'] }, name)).toBe('家庭（H1）为低保、特困户')
    expect(evidenceSentence({ kind: 'caregiver', id: 'P2', count: 5 }, name)).toBe('照护人李兰，同时照护5名儿童')
    expect(evidenceSentence({ kind: 'report', id: 'R9', on: '2026-11-28', urgency: 'high' }, name)).toBe(
      '2026年11月28日收到较急报告（编号 R9），至今未立案',
    )
  })

  it('says who someone is by id when the file does not know them, never dropping them', () => {
    expect(evidenceSentence({ kind: 'parent', id: 'P404' }, name)).toBe('父母：某人（P404）')
    expect(evidenceSentence({ kind: 'something_new', id: 'X1', on: '2026-01-02' }, name)).toBe('something_new：X1，2026-01-02')
  })
})

describe('timeline wording', () => {
  const event = (kind: string, value: string | null, detail: string | null = null, subjectId = 'P1') => ({
    kind, value, detail, subjectId, on: '2026-12-01', at: null, actor: null, note: null,
  })
  it('says each kind of event with its value in Chinese and the person named', () => {
    expect(eventSentence(event('visit', 'home_visit', null, 'P2'), name)).toBe('走访：入户走访（李兰）')
    expect(eventSentence(event('contact', 'video'), name)).toBe('联系：张建国通过视频')
    expect(eventSentence(event('alert', 'open', 'CAREGIVER_UNFIT red', 'uuid'), name)).toBe('预警：照护人不适格，红色·紧急')
    expect(eventSentence(event('registered', 'left_behind'), name)).toBe('登记：农村留守儿童')
    expect(eventSentence(event('enrolled', '6', null, 'P404'), name)).toBe('入学：某人（P404），6年级')
    expect(eventSentence({ ...event('file_corrected', 'correctPerson'), note: '按户口簿更正' }, name)).toBe(
      '更正档案：更正个人信息。按户口簿更正',
    )
  })
})
