// The dashboard's pages, one module each. Values are always children (text), never HTML.
import { DeadLetterDetail, DeadLetters } from '/assets/dead-letters.js';
import { Monitor } from '/assets/monitor.js';
import { Overview } from '/assets/overview.js';
import { QueueDetail, Queues } from '/assets/queues.js';
import { ScheduleDetail, Schedules } from '/assets/schedules.js';
import { TaskDetail, Tasks } from '/assets/tasks.js';
import { WorkerDetail, Workers } from '/assets/workers.js';

export const PAGES = [
  { path: '/', title: 'Overview', view: Overview },
  { path: '/workers', title: 'Workers', view: Workers },
  { path: '/tasks', title: 'Tasks', view: Tasks },
  { path: '/tasks/', title: 'Task', view: TaskDetail, match: /^\/tasks\/.+/, hidden: true },
  { path: '/queues', title: 'Queues', view: Queues },
  { path: '/schedules', title: 'Schedules', view: Schedules },
  { path: '/schedules/', title: 'Schedule', view: ScheduleDetail, match: /^\/schedules\/.+/, hidden: true },
  { path: '/dead-letters', title: 'Dead letters', view: DeadLetters },
  { path: '/monitor', title: 'Monitor', view: Monitor },
  { path: '/workers/', title: 'Worker', view: WorkerDetail, match: /^\/workers\/.+/, hidden: true },
  { path: '/queues/', title: 'Queue', view: QueueDetail, match: /^\/queues\/.+/, hidden: true },
  { path: '/dead-letters/', title: 'Dead letter', view: DeadLetterDetail, match: /^\/dead-letters\/.+/, hidden: true },
];

