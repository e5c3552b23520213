// Swaps a workspace folder with a symbolic link to a folder outside, over and over, until killed:
//   node folderSwapper.mjs <folder> <outside>
// Each round: the folder is renamed aside, a link to <outside> takes its name, then the folder comes
// back. Steps that fail (a restore created the folder meanwhile) are skipped. Prints `swapping` once
// the first link has been in place, and `rounds <n>` when it gets SIGTERM.
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [folder, outside] = process.argv.slice(2);
const aside = `${folder}.aside`;
let rounds = 0;
let running = true;
process.on('SIGTERM', () => (running = false));

function swapOnce() {
  try {
    fs.renameSync(folder, aside);
  } catch {
    return;
  }
  try {
    fs.symlinkSync(outside, folder);
    if (rounds === 0) process.stdout.write('swapping\n');
    rounds++;
    // let the other process run while the link is in place
    for (let i = 0; i < 50; i++) fs.lstatSync(folder);
    fs.unlinkSync(folder);
  } catch {
    // the restore made a folder of that name meanwhile: leave it, bring ours back beside it below
  }
  try {
    fs.renameSync(aside, folder);
  } catch {
    // a folder of that name (made by the restore) is in the way: keep ours aside until the next round
  }
}

// Rounds for a few milliseconds, then a pause, so the restore (on a machine with few cores) runs too.
while (running) {
  const until = Date.now() + 5;
  while (running && Date.now() < until) swapOnce();
  await sleep(2);
}
process.stdout.write(`rounds ${rounds}\n`);
