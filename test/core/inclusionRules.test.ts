import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import picomatch from 'picomatch';
import {
  BUILTIN_EXCLUDES,
  DEFAULT_CAPTURE_RULES,
  DEFAULT_SECRET_EXCLUDES,
  DEFAULT_SECRET_KEEP,
  GitignoreCache,
  InclusionRules,
  listFiles,
  rebaseGitignore,
  ruleFileFolder,
  type CaptureRules,
} from '../../src/core/capture';
import { isSecretPath } from '../../src/core/capture/inclusionRules';
import { CaptureHarness, cleanupTempDirs, tempDir, writeTree } from './helpers/captureFixtures';
import { cleanupAll, makeSandbox, openStore, writeFiles } from './helpers/storeFixtures';

after(cleanupTempDirs);
after(cleanupAll);

const hasGit = spawnSync('git', ['--version']).status === 0;

async function rulesFor(files: Parameters<typeof writeTree>[1], rules: Partial<CaptureRules> = {}, neverCapture?: string[]) {
  const ws = await tempDir('rp-rules-');
  await writeTree(ws, files);
  const gitignores = new GitignoreCache();
  const inclusion = await InclusionRules.create({ name: 'ws', path: ws }, { ...DEFAULT_CAPTURE_RULES, ...rules }, { gitignores, neverCapture });
  return { ws, inclusion, gitignores };
}

describe('inclusion rules', () => {
  test('defaults', () => {
    assert.deepEqual(DEFAULT_CAPTURE_RULES, { respectGitignore: true, excludes: [], excludeSecrets: true, maxFileSize: 10 * 1024 * 1024 });
    assert.deepEqual([...BUILTIN_EXCLUDES], ['.git', 'node_modules', '.hg', '.svn']);
    assert.ok(DEFAULT_SECRET_EXCLUDES.includes('**/.env*'));
  });

  test('isIncluded checks the path and every ancestor against every kind of rule', async () => {
    const { inclusion, ws } = await rulesFor(
      {
        '.gitignore': 'dist/\n*.log\n!important.log\n',
        'pkg/.gitignore': 'generated/\n!dist/\n',
        '.git/info/exclude': 'local-notes.md\n',
      },
      { excludes: ['tmp/**', '**/*.bak'] },
      ['/elsewhere', '/tmp/../STORE'.replace('/tmp/..', '') /* a path outside: ignored */],
    );
    const cases: Array<[string, boolean, boolean]> = [
      ['src/app.ts', false, true],
      ['dist/bundle.js', false, false],
      ['dist', true, false],
      ['dist', false, true], // a file named dist: `dist/` matches folders only
      ['a.log', false, false],
      ['important.log', false, true],
      ['pkg/generated/x.ts', false, false],
      ['pkg/dist/keep.js', false, true], // re-included by the deeper .gitignore
      ['other/generated/x.ts', false, true], // pkg's rules apply below pkg only
      ['local-notes.md', false, false],
      ['sub/local-notes.md', false, false],
      ['tmp/x', false, false],
      ['a/b.bak', false, false],
      ['node_modules/x/index.js', false, false],
      ['packages/a/node_modules', true, false],
      ['.git', true, false],
      ['sub/.git', false, false],
      ['.hg/store', false, false],
      ['.env', false, false],
      ['config/.env.local', false, false],
      ['.ssh/id_ed25519.pub', false, false],
      ['id_rsa.pub', false, true],
    ];
    for (const [rel, isDir, expected] of cases) assert.equal(await inclusion.isIncluded(rel, isDir), expected, `${rel}${isDir ? '/' : ''}`);
    assert.ok(ws);
  });

  test('exclusion names the rule that leaves a path out, and the path (or ancestor) it applies to', async () => {
    const { inclusion, ws } = await rulesFor({ '.gitignore': 'dist/\n' }, { excludes: ['**/*.bak'] });
    const store = path.join(ws, 'store');
    const withStore = await InclusionRules.create({ name: 'ws', path: ws }, DEFAULT_CAPTURE_RULES, { neverCapture: [store] });
    assert.deepEqual(await inclusion.exclusion('config/.env', false), { rule: 'secret', path: 'config/.env' });
    assert.deepEqual(await inclusion.exclusion('dist/app.js', false), { rule: 'gitignore', path: 'dist' });
    assert.deepEqual(await inclusion.exclusion('a/b.bak', false), { rule: 'exclude', path: 'a/b.bak' });
    assert.deepEqual(await inclusion.exclusion('node_modules/a/b.js', false), { rule: 'builtin', path: 'node_modules' });
    assert.deepEqual(await withStore.exclusion('store/state.json', false), { rule: 'store', path: 'store' });
    assert.equal(await inclusion.exclusion('src/app.ts', false), undefined);
    // asked together, as a hint's paths are, and again: each folder's verdict is shared, never mixed up
    const together = await Promise.all(['dist/a/one.js', 'dist/a/.env', 'src/a/two.ts', 'src/a/b.bak', 'src/a/deep/three.ts', 'dist/a/one.js'].map((rel) => inclusion.exclusion(rel, false)));
    assert.deepEqual(together, [
      { rule: 'gitignore', path: 'dist' },
      { rule: 'secret', path: 'dist/a/.env' }, // a path rule anywhere on the path before git's
      undefined,
      { rule: 'exclude', path: 'src/a/b.bak' },
      undefined,
      { rule: 'gitignore', path: 'dist' },
    ]);
    assert.deepEqual(await inclusion.exclusion('src/a/node_modules/x.js', false), { rule: 'builtin', path: 'src/a/node_modules' });
    const secretsAllowed = (await rulesFor({}, { excludeSecrets: false })).inclusion;
    assert.equal(await secretsAllowed.exclusion('.env', false), undefined, 'excludeSecrets off: captured');
  });

  test('the store folder is never captured, whichever way its path is spelled', async () => {
    const ws = await tempDir('rp-rules-');
    await writeTree(ws, { 'real/store/x': 'x' });
    await fs.symlink(path.join(ws, 'real'), path.join(ws, 'alias'));
    const inclusion = await InclusionRules.create({ name: 'ws', path: ws }, DEFAULT_CAPTURE_RULES, { neverCapture: [path.join(ws, 'alias', 'store')] });
    assert.equal(await inclusion.isIncluded('real/store', true), false);
    assert.equal(await inclusion.isIncluded('real/store/x', false), false);
    assert.equal(await inclusion.isIncluded('real/other', true), true);
  });

  test('rules files are cached per folder and reloaded after invalidate', async () => {
    const { ws, inclusion } = await rulesFor({ 'a/.gitignore': '*.tmp\n', 'a/b/.gitignore': '' });
    assert.equal(await inclusion.isIncluded('a/b/x.tmp', false), false);
    await fs.writeFile(path.join(ws, 'a', '.gitignore'), '');
    assert.equal(await inclusion.isIncluded('a/b/x.tmp', false), false, 'still the cached rules');
    inclusion.invalidate('a');
    assert.equal(await inclusion.isIncluded('a/b/x.tmp', false), true, 'reloaded, including the folders below');
    await fs.writeFile(path.join(ws, '.gitignore'), 'a/\n');
    inclusion.invalidate('');
    assert.equal(await inclusion.isIncluded('a/b/x.tmp', false), false);
  });

  test('respectGitignore: false reads no ignore file', async () => {
    const { inclusion } = await rulesFor({ '.gitignore': '*\n', '.git/info/exclude': '*\n' }, { respectGitignore: false });
    assert.equal(await inclusion.isIncluded('a/b.txt', false), true);
    assert.equal(await inclusion.isIncluded('.git/info/exclude', false), false, '.git itself stays out');
  });

  test('rebaseGitignore anchors patterns to their folder', () => {
    assert.deepEqual(rebaseGitignore('# c\n\n*.log\n/top\nmid/dle\ndir/\n!keep.log\n\\#hash\n  \ntrailing   \n', 'sub/[x]'), [
      'sub/\\[x\\]/**/*.log',
      'sub/\\[x\\]/top',
      'sub/\\[x\\]/mid/dle',
      'sub/\\[x\\]/**/dir/',
      '!sub/\\[x\\]/**/keep.log',
      'sub/\\[x\\]/**/\\#hash',
      'sub/\\[x\\]/**/trailing',
    ]);
    assert.deepEqual(rebaseGitignore('a\nb', ''), ['a', 'b']);
    assert.deepEqual(rebaseGitignore('x', '!weird'), ['\\!weird/**/x']);
  });

  test('ruleFileFolder', () => {
    assert.equal(ruleFileFolder('.gitignore'), '');
    assert.equal(ruleFileFolder('a/b/.gitignore'), 'a/b');
    assert.equal(ruleFileFolder('.git/info/exclude'), '');
    assert.equal(ruleFileFolder('.git'), '');
    assert.equal(ruleFileFolder('a/.gitignore.bak'), null);
    assert.equal(ruleFileFolder('.git/index'), null);
    assert.equal(ruleFileFolder('src/app.ts'), null);
  });
});

// ---------------------------------------------------------------------------------------------
// Git's global excludes file (core.excludesFile), found through HOME and XDG_CONFIG_HOME.

/** Runs `work` with HOME and XDG_CONFIG_HOME pointing at a fresh folder, restoring them after. */
async function withHome<T>(work: (home: string) => Promise<T>, xdg?: (home: string) => string): Promise<T> {
  const home = await tempDir('rp-home-');
  const saved = { HOME: process.env.HOME, XDG_CONFIG_HOME: process.env.XDG_CONFIG_HOME };
  process.env.HOME = home;
  if (xdg) process.env.XDG_CONFIG_HOME = xdg(home);
  else delete process.env.XDG_CONFIG_HOME;
  try {
    return await work(home);
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function capturedFiles(ws: string, rules: Partial<CaptureRules> = {}): Promise<string[]> {
  const h = await CaptureHarness.create([{ name: 'ws', path: ws }], rules);
  return [...(await listFiles(h.objects, (await h.capture()).root)).keys()];
}

describe('git global excludes file', () => {
  const files = { 'a.txt': 'a', 'debug.log': 'log', 'keep.log': 'keep', '.idea/workspace.xml': 'x', 'src/notes.scratch': 'n', '.gitignore': '!keep.log\n' };

  test('the default ~/.config/git/ignore is honoured, and .gitignore files win over it', async () => {
    await withHome(async (home) => {
      await writeTree(home, { '.config/git/ignore': '*.log\n.idea/\n*.scratch\n' });
      const ws = await tempDir('rp-global-');
      await writeTree(ws, files);
      assert.deepEqual(await capturedFiles(ws), ['ws/.gitignore', 'ws/a.txt', 'ws/keep.log']);
      assert.equal((await capturedFiles(ws, { respectGitignore: false })).length, 6, 'not applied when respectGitignore is off');
    });
  });

  test('$XDG_CONFIG_HOME/git/ignore when XDG_CONFIG_HOME is set', async () => {
    await withHome(
      async (home) => {
        await writeTree(home, { 'xdg/git/ignore': '*.log\n', '.config/git/ignore': 'a.txt\n' });
        const ws = await tempDir('rp-global-');
        await writeTree(ws, files);
        assert.deepEqual(await capturedFiles(ws), ['ws/.gitignore', 'ws/.idea/workspace.xml', 'ws/a.txt', 'ws/keep.log', 'ws/src/notes.scratch']);
      },
      (home) => path.join(home, 'xdg'),
    );
  });

  test('core.excludesFile from ~/.gitconfig, tilde-expanded and quoted, overrides the XDG config; a hint capture agrees', async () => {
    await withHome(async (home) => {
      await writeTree(home, {
        '.config/git/config': '[core]\n\texcludesFile = ~/from-xdg-config\n',
        '.gitconfig': '# mine\n[user]\n\tname = x\n[core "sub"]\n\texcludesfile = /nowhere\n[Core]\n\tExcludesFile = "~/my ignores" ; comment\n',
        'my ignores': '*.scratch\n',
        'from-xdg-config': 'a.txt\n',
        '.config/git/ignore': '*.log\n',
      });
      const ws = await tempDir('rp-global-');
      await writeTree(ws, files);
      assert.deepEqual(await capturedFiles(ws), ['ws/.gitignore', 'ws/.idea/workspace.xml', 'ws/a.txt', 'ws/debug.log', 'ws/keep.log']);
      const { inclusion } = await rulesFor(files);
      assert.equal(await inclusion.isIncluded('src/notes.scratch', false), false);
      assert.equal(await inclusion.isIncluded('debug.log', false), true);
    });
  });

  test('git agrees', { skip: hasGit ? false : 'git is not installed' }, async () => {
    await withHome(async (home) => {
      await writeTree(home, { '.gitconfig': '[core]\n\texcludesfile = ~/.gitignore_global\n', '.gitignore_global': '*.log\n*.scratch\n' });
      const ws = await tempDir('rp-global-');
      await writeTree(ws, files);
      execFileSync('git', ['init', '-q'], { cwd: ws });
      const git = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: ws, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1' } })
        .split('\n')
        .filter(Boolean)
        .map((f) => `ws/${f}`)
        .sort();
      assert.deepEqual(await capturedFiles(ws), git);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Differential test: the compiled secret test decides as picomatch does with the secret globs.

/** Pieces of names: every secret name and suffix, parts of them, letters whose case folding is special. */
const S_PIECES = [
  ...['.env', '.env.', 'env', '.', '..', 'id_rsa', 'id_dsa', 'id_ecdsa', 'id_ed25519', 'id_', 'rsa', 'config', 'config.json', '.json'],
  ...['.docker', 'docker', '.kube', '.ssh', 'ssh', '.aws', '.gnupg', 'credentials', '.credentials.json', 'credentials.json', 'secrets.json'],
  ...['.pem', 'pem', '.key', 'key', 'ey', '.p12', '.pfx', '.keystore', '.jks', '.tfvars', '.npmrc', '.pypirc', '.netrc', '.git-credentials'],
  ...['.vault-token', 'src', 'a', '-', ' ', '~', '*', '[x]', '\u212A', '\u0130', '\u0131', '\u00DF', '\u00E9', '\u017F', 'S'],
  ...['.envrc', '_local', '-dev', '.example', '.sample', '.template', '.dist', '.ppk', '.ovpn', 'wallet.dat', 'kubeconfig', '.pgpass', '.my.cnf'],
  ...['secrets.yaml', 'service-account.json', 'id_ecdsa_sk', '.htpasswd', '.dockercfg', '.boto', '.s3cfg', '.terraformrc'],
  ...['.bak', '.orig', '.swp', '.swo', '.tmp', '.old', '.save', 'swp', '.sw', 'bak'],
  ...['.\u212Aey', '.\u212Aube', '.doc\u212Aer', '\u212Aeystore', '.\u017Fsh', '.npmr\u0130'],
];

const secretGlobs = picomatch([...DEFAULT_SECRET_EXCLUDES], { dot: true, nocase: true, ignore: [...DEFAULT_SECRET_KEEP] });
const oneCase = fc.tuple(fc.constantFrom(...S_PIECES), fc.constantFrom('as is', 'upper', 'lower', 'mixed')).map(([piece, how]) => {
  if (how === 'upper') return piece.toUpperCase();
  if (how === 'lower') return piece.toLowerCase();
  if (how === 'mixed') return [...piece].map((c, i) => (i % 2 === 0 ? c.toUpperCase() : c)).join('');
  return piece;
});
const storableName = fc
  .array(oneCase, { minLength: 1, maxLength: 3 })
  .map((pieces) => pieces.join(''))
  .filter((name) => name !== '.' && name !== '..' && !/[/\\\0]/.test(name));

describe('secret excludes', () => {
  test('the compiled test decides as the picomatch globs on many generated paths', () => {
    fc.assert(
      fc.property(fc.array(storableName, { minLength: 1, maxLength: 5 }), (names) => {
        const rel = names.join('/');
        assert.equal(isSecretPath(rel), secretGlobs(rel), rel);
      }),
      { numRuns: 30_000 },
    );
  });

  test('every piece as a name, and under every piece as a folder, decides as the globs', () => {
    let secrets = 0;
    for (const parent of ['', ...S_PIECES, 'a/.ssh', '.AWS/x', 'x/.GnuPG']) {
      for (const piece of S_PIECES) {
        for (const name of [piece, piece.toUpperCase(), `x${piece}`, `${piece}x`]) {
          if (name === '.' || name === '..' || (parent !== '' && (parent === '.' || parent === '..'))) continue;
          const rel = parent === '' ? name : `${parent}/${name}`;
          const expected = secretGlobs(rel);
          assert.equal(isSecretPath(rel), expected, rel);
          if (expected) secrets++;
        }
      }
    }
    assert.ok(secrets > 500, `only ${secrets} secret paths were generated`);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential test: what a full scan keeps is exactly what git considers not ignored.

const G_DIRS = ['', 'a', 'a/b', 'a/b/c', 'build', 'a/build', 'docs', 'sp ace', '[x]'];
const G_NAMES = ['f.txt', 'g.log', 'keep.log', 'h.tmp', 'build', 'c', 'README', '#hash', '!bang', 'deep'];
const G_LINES = [
  '*.log',
  '!keep.log',
  'build/',
  'build',
  '!build/',
  '*.tmp',
  '/f.txt',
  'b/',
  'c',
  '!c',
  'a/b/',
  '**/deep',
  'a/**/h.tmp',
  '\\#hash',
  '\\!bang',
  '*',
  '!*/',
  '!f.txt',
  'doc?/',
  '[fg].*',
  '# comment',
  'README ',
  '!/a',
  'x/**',
];

describe('gitignore semantics match git', { skip: hasGit ? false : 'git is not installed' }, () => {
  test('random trees and ignore files: the files captured are the files git does not ignore', async () => {
    const file = fc.tuple(fc.constantFrom(...G_DIRS), fc.constantFrom(...G_NAMES)).map(([d, n]) => (d === '' ? n : `${d}/${n}`));
    const ignoreFile = fc.record({ dir: fc.constantFrom(...G_DIRS), lines: fc.array(fc.constantFrom(...G_LINES), { maxLength: 6 }) });
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(file, { minLength: 1, maxLength: 25 }), fc.array(ignoreFile, { maxLength: 4 }), fc.array(fc.constantFrom(...G_LINES), { maxLength: 3 }), async (files, ignores, exclude) => {
        const ws = await tempDir('rp-git-');
        execFileSync('git', ['init', '-q', ws]);
        const written = new Set<string>();
        for (const rel of files) {
          // a path whose folder is a file already (or the reverse) cannot exist: skip it
          if ([...written].some((other) => rel.startsWith(`${other}/`) || other.startsWith(`${rel}/`))) continue;
          await writeTree(ws, { [rel]: `content of ${rel}` });
          written.add(rel);
        }
        for (const { dir, lines } of ignores) {
          const at = path.join(ws, dir);
          if ([...written].some((other) => dir === other || dir.startsWith(`${other}/`))) continue;
          await fs.mkdir(at, { recursive: true });
          await fs.writeFile(path.join(at, '.gitignore'), lines.join('\n') + '\n');
        }
        await fs.writeFile(path.join(ws, '.git', 'info', 'exclude'), exclude.join('\n') + '\n');
        const gitSees = execFileSync('git', ['-c', 'core.ignorecase=false', 'ls-files', '--others', '--exclude-standard', '-z'], { cwd: ws, encoding: 'utf8' })
          .split('\0')
          .filter((f) => f !== '')
          .sort();
        const h = await CaptureHarness.create([{ name: 'ws', path: ws }], { excludeSecrets: false });
        const result = await h.capture();
        const weSee = [...(await listFiles(h.objects, result.root)).keys()].map((f) => f.slice('ws/'.length)).sort();
        assert.deepEqual(weSee, gitSees, JSON.stringify({ files: [...written], ignores, exclude }));
        compared++;
        await fs.rm(ws, { recursive: true, force: true });
      }),
      { numRuns: Number(process.env.PROP_RUNS ?? 60), seed: Number(process.env.PROP_SEED ?? 4242) },
    );
    assert.ok(compared >= Number(process.env.PROP_RUNS ?? 60));
  });

  test('a folder re-included by a deeper .gitignore keeps its files (git reads the deeper rule first)', async () => {
    const ws = await tempDir('rp-git-');
    execFileSync('git', ['init', '-q', ws]);
    await writeTree(ws, { '.gitignore': 'a/b/\n', 'a/.gitignore': '!b/\n', 'a/b/c.txt': 'c', 'a/d.txt': 'd' });
    const gitSees = execFileSync('git', ['ls-files', '--others', '--exclude-standard'], { cwd: ws, encoding: 'utf8' }).split('\n').filter(Boolean).sort();
    const h = await CaptureHarness.create([{ name: 'ws', path: ws }]);
    const weSee = [...(await listFiles(h.objects, (await h.capture()).root)).keys()].map((f) => f.slice(3));
    assert.deepEqual(weSee, gitSees);
    assert.ok(weSee.includes('a/b/c.txt'));
  });
});

describe('hostile .gitignore rules', () => {
  // without the bound, this capture is stuck for hours: the time-out makes that a failure, not a hung run
  test('repeated ** is matched as one; a rule with more than three ** is left out with a warning, and the point is made', { timeout: 120_000 }, async () => {
    const sb = await makeSandbox();
    const deep = `a/${'x/'.repeat(30)}`;
    await writeFiles(sb.ws, {
      '.gitignore': `a/${'**/'.repeat(25)}b\n${'**/y/'.repeat(5)}c\n`,
      [`${deep}b`]: 'ignored by the collapsed rule\n',
      [`${deep}c`]: 'kept: its rule was left out\n',
      [`${deep}keep.txt`]: 'kept\n',
    });
    const warnings: string[] = [];
    const store = await openStore(sb, { logger: { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) } });
    const point = (await store.recovery.createRecoveryPoint())!;
    const files = (await store.recovery.changedFiles(point.id)).added.map((c) => c.path);
    assert.ok(!files.includes(`ws/${deep}b`), 'a/**/**/…/b ignores what a/**/b does');
    assert.ok(files.includes(`ws/${deep}c`) && files.includes(`ws/${deep}keep.txt`), files.join(' '));
    assert.ok(warnings.some((w) => /The rule "\*\*\/y\/\*\*\/y.*" of .*\.gitignore has more than 3 "\*\*" and is left out: matching it could take minutes\./.test(w)), warnings.join('\n'));
    await store.close();
  });
});
