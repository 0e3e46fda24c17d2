import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { ClaimedTask, TaskPhase, WorkerEvent } from '../../worker-core/worker-events.ts'
import { clock, count, epsilon, seconds, shortId } from './format.ts'
import { jsonLog, progressThrottle, type JsonLog } from './json-log.ts'

/** Turns the worker core's events into output; the core itself never prints. */
export interface WorkerRenderer {
  onEvent(event: WorkerEvent): void
  /** A line from the command itself (signals, shutdown). */
  notice(message: string): void
  /** Stops redrawing (leaves the terminal as it was). */
  close(): void
}

export function createWorkerRenderer(options: { json: boolean; stream?: NodeJS.WriteStream }): WorkerRenderer {
  const stream = options.stream ?? process.stdout
  return options.json ? workerJsonLines(jsonLog(stream)) : workerBars(stream)
}

/** One JSON line per event; training progress at most once a second per task and phase. */
export function workerJsonLines(log: JsonLog): WorkerRenderer {
  const throttle = progressThrottle()
  return {
    onEvent(event) {
      if (event.type === 'progress' && !throttle.allow(String(event.taskId), event.phase, event.fraction)) return
      if (event.type === 'completed' || event.type === 'failed' || event.type === 'dropped') throttle.forget(String(event.taskId))
      const { type, ...fields } = event
      log.write(type, fields)
    },
    notice(message) {
      log.write('notice', { message })
    },
    close() {},
  }
}

interface RunningTask {
  task: ClaimedTask
  bar: SingleBar
  phase: TaskPhase
  loss: number | undefined
}

const label = (task: ClaimedTask, phase: TaskPhase | 'claimed') =>
  `${shortId(task.jobId)} r${task.round} s${task.shardIndex} ${phase}`.padEnd(28)

/**
 * A terminal: one bar per running task (`1a2b3c4d r2 s3 train [====    ] 48% loss 0.3121`),
 * removed when the task ends, with a summary line above the bars for each thing that happened.
 */
export function workerBars(stream: NodeJS.WriteStream): WorkerRenderer {
  const bars = new MultiBar(
    {
      stream,
      format: '{label} {bar} {percentage}% {detail}',
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      autopadding: true,
      // The command handles Ctrl-C itself (drain, then release): no handler of the library's own.
      gracefulExit: false,
    },
    Presets.shades_classic,
  )
  const running = new Map<number, RunningTask>()
  const totals = { completed: 0, failed: 0, dropped: 0 }
  let active = false

  const line = (text: string) => {
    // While bars are drawn the text goes above them; before the first bar, straight out.
    if (active) bars.log(`${text}\n`)
    else stream.write(`${text}\n`)
  }
  const describe = (taskId: number) => {
    const task = running.get(taskId)?.task
    return task ? `${shortId(task.jobId)} r${task.round} s${task.shardIndex}` : `task ${taskId}`
  }
  const finish = (taskId: number) => {
    const entry = running.get(taskId)
    if (!entry) return
    running.delete(taskId)
    bars.remove(entry.bar)
    // No task left: stop redrawing (an idle worker would otherwise repaint nothing 10 times a
    // second); the next claim starts the bars again.
    if (running.size === 0) stopBars()
  }
  const stopBars = () => {
    if (!active) return
    bars.update() // writes the lines logged since the last redraw
    bars.stop()
    active = false
  }

  return {
    onEvent(event) {
      switch (event.type) {
        case 'signed-in':
          return line(`${clock()} signed in as ${event.userId}`)
        case 'registered':
          return line(
            `${clock()} worker ${event.name} registered (${event.workerId}), ${event.payoutAddress ? `paid at ${event.payoutAddress}` : 'no payout address (local jobs only)'}; waiting for tasks`,
          )
        case 'claimed': {
          const bar = bars.create(100, 0, { label: label(event.task, 'claimed'), detail: `attempt ${event.task.attempt}` })
          active = true
          running.set(event.task.taskId, { task: event.task, bar, phase: 'download', loss: undefined })
          return
        }
        case 'progress': {
          const entry = running.get(event.taskId)
          if (!entry) return
          entry.phase = event.phase
          if (event.loss !== undefined) entry.loss = event.loss
          entry.bar.update(Math.round(Math.min(1, Math.max(0, event.fraction)) * 100), {
            label: label(entry.task, event.phase),
            detail: entry.loss === undefined ? '' : `loss ${entry.loss.toFixed(4)}`,
          })
          return
        }
        case 'completed': {
          totals.completed += 1
          const what = describe(event.taskId)
          finish(event.taskId)
          return line(
            `${clock()} ✓ ${what} delivered: ${count(event.sampleCount)} samples in ${seconds(event.seconds)} (training ${count(Math.round(event.samplesPerSecond))} samples/s), ${epsilon(event.epsilonSpent)}`,
          )
        }
        case 'failed': {
          totals.failed += 1
          const what = describe(event.taskId)
          finish(event.taskId)
          return line(`${clock()} ✗ ${what} failed${event.retryable ? ' (given back for a retry)' : ''}: ${event.reason}`)
        }
        case 'dropped': {
          totals.dropped += 1
          const what = describe(event.taskId)
          finish(event.taskId)
          return line(`${clock()} ! ${what} dropped: ${event.reason}`)
        }
        case 'draining':
          return line(`${clock()} draining: no new tasks; ${event.running} running`)
        case 'released':
          return line(`${clock()} released ${event.taskIds.length} task(s): ${event.reason}`)
        case 'warning':
          return line(`${clock()} warning: ${event.message}`)
        case 'stopped':
          return line(
            `${clock()} worker stopped: ${totals.completed} delivered, ${totals.failed} failed, ${totals.dropped} dropped`,
          )
      }
    },
    notice(message) {
      line(`${clock()} ${message}`)
    },
    close() {
      for (const taskId of [...running.keys()]) finish(taskId)
      stopBars()
    },
  }
}
