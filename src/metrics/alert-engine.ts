/** The conditions tickforge watches; each is one rule of `alert-rules.ts` and one Prometheus rule. */
export const ALERT_RULES = [
  'eod-late',
  'queue-wait',
  'failure-rate',
  'job-p99',
  'postgres-pool',
  'redis-memory',
  'no-worker',
] as const;

export type AlertRule = (typeof ALERT_RULES)[number];

export type AlertSeverity = 'warning' | 'critical';

/** A rule's finding that something is wrong with one subject (a queue, a job name, a process …). */
export interface Condition {
  rule: AlertRule;
  /** What the condition is about; one rule fires at most one alert per subject. */
  subject: string;
  severity: AlertSeverity;
  /** The figure that crossed the threshold, in the threshold's unit. */
  value: number;
  threshold: number;
  /** A sentence for a person: what is wrong, the figure and the limit. */
  message: string;
}

/** One rule's evaluation: the subjects found wrong. A subject absent here is fine. */
export interface RuleResult {
  rule: AlertRule;
  firing: Condition[];
}

/** An alert: a condition from the moment it started until it resolved. */
export interface Alert extends Condition {
  /** `rule:subject`: the same alert keeps the same id while it lasts. */
  id: string;
  /** When the condition started (ISO-8601). */
  since: string;
  /** When the condition ended (ISO-8601); absent while it is active. */
  resolvedAt?: string;
}

/** A change of an alert's state: it started firing, or it resolved. */
export interface AlertTransition {
  state: 'firing' | 'resolved';
  alert: Alert;
}

const alertId = (condition: Pick<Condition, 'rule' | 'subject'>) => `${condition.rule}:${condition.subject}`;

/**
 * The alert state machine. Each evaluation compares what the rules found with the active
 * alerts and returns only the changes: an alert fires once when its condition starts and
 * resolves once when it ends; while it lasts, its figure and message follow the latest
 * evaluation without firing again. A rule left out of an evaluation (it could not be
 * evaluated, say Redis did not answer) leaves its alerts as they are.
 */
export class AlertEngine {
  private readonly alerts = new Map<string, Alert>();

  /** Starts from the alerts active before (another process's evaluation), so they do not fire again. */
  constructor(active: Iterable<Alert> = []) {
    for (const alert of active) this.alerts.set(alert.id, { ...alert });
  }

  /** The alerts active now, oldest first. */
  active(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => a.since.localeCompare(b.since));
  }

  /** Applies one evaluation of some or all rules at `now`; returns the alerts that fired and resolved. */
  evaluate(results: RuleResult[], now: Date): AlertTransition[] {
    const transitions: AlertTransition[] = [];
    const at = now.toISOString();
    for (const { rule, firing } of results) {
      const current = new Map(firing.map((condition) => [alertId(condition), condition]));
      for (const [id, alert] of this.alerts) {
        if (alert.rule !== rule || current.has(id)) continue;
        this.alerts.delete(id);
        transitions.push({ state: 'resolved', alert: { ...alert, resolvedAt: at } });
      }
      for (const [id, condition] of current) {
        const known = this.alerts.get(id);
        if (known) {
          Object.assign(known, { value: condition.value, threshold: condition.threshold, message: condition.message });
          continue;
        }
        const alert: Alert = { ...condition, id, since: at };
        this.alerts.set(id, alert);
        transitions.push({ state: 'firing', alert: { ...alert } });
      }
    }
    return transitions;
  }
}
