/**
 * A robot's test message (`POST /robots/{id}/test` queues it; its outcome lands on the robot as
 * `last_sent_at` / `last_error`): whether a fresh read of the robot shows it delivered, failed
 * or not yet tried, compared with the robot as it was before the test.
 */
import type { components } from '../../../src/api/schema'

type Robot = Pick<components['schemas']['RobotOut'], 'last_sent_at' | 'last_error'>
export type TestOutcome = 'delivered' | 'failed' | 'pending'

export function testOutcome(before: Robot, now: Robot): TestOutcome {
  if (now.last_error) return now.last_error !== before.last_error || now.last_sent_at !== before.last_sent_at ? 'failed' : 'pending'
  if (now.last_sent_at && (now.last_sent_at !== before.last_sent_at || before.last_error)) return 'delivered'
  return 'pending'
}
