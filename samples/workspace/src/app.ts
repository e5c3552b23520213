import { formatDuration, slugify } from './util';

export interface Task {
  title: string;
  minutes: number;
}

export function describe(tasks: Task[]): string[] {
  return tasks.map((task) => `${slugify(task.title)}: ${formatDuration(task.minutes)}`);
}

console.log(describe([
  { title: 'Write the README', minutes: 25 },
  { title: 'Fix the flaky test', minutes: 90 },
]).join('\n'));
