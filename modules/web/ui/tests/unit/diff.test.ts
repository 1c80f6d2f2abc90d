import { describe, expect, it } from 'vitest';
import { parseUnifiedDiff, sideBySide } from '../../src/lib/diff';

const patch = `diff --git a/src/app.ts b/src/app.ts
index 1111111..2222222 100644
--- a/src/app.ts
+++ b/src/app.ts
@@ -1,4 +1,5 @@
 import x from 'x';
-const a = 1;
-const b = 2;
+const a = 10;
+const b = 20;
+const c = 30;
 export { a };
@@ -10,2 +11,1 @@ function f() {
 keep
-gone
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+hello
+world
\\ No newline at end of file
diff --git a/old.bin b/old.bin
deleted file mode 100644
Binary files a/old.bin and /dev/null differ
diff --git a/a.md b/b.md
similarity index 90%
rename from a.md
rename to b.md
`;

describe('parseUnifiedDiff', () => {
  const files = parseUnifiedDiff(patch);
  it('splits files with their status and counts', () => {
    expect(files.map((f) => [f.newPath, f.status, f.additions, f.deletions])).toEqual([
      ['src/app.ts', 'modified', 3, 3],
      ['new.txt', 'added', 2, 0],
      ['old.bin', 'deleted', 0, 0],
      ['b.md', 'renamed', 0, 0],
    ]);
    expect(files[2].binary).toBe(true);
    expect(files[3].oldPath).toBe('a.md');
  });
  it('numbers old and new lines from the hunk headers', () => {
    const h = files[0].hunks[1];
    expect(h.lines).toEqual([
      { kind: 'context', text: 'keep', oldNo: 10, newNo: 11 },
      { kind: 'del', text: 'gone', oldNo: 11 },
    ]);
    expect(files[1].hunks[0].lines.map((l) => l.newNo)).toEqual([1, 2]);
  });
  it('returns nothing for an empty diff', () => {
    expect(parseUnifiedDiff('')).toEqual([]);
  });
});

describe('sideBySide', () => {
  it('pairs deletions with the additions that replace them', () => {
    const rows = sideBySide(parseUnifiedDiff(patch)[0]);
    expect(rows[0]).toMatchObject({ kind: 'hunk' });
    expect(rows[1].left?.text).toBe("import x from 'x';");
    expect(rows[1].right?.text).toBe("import x from 'x';");
    expect([rows[2].left?.text, rows[2].right?.text]).toEqual(['const a = 1;', 'const a = 10;']);
    expect([rows[3].left?.text, rows[3].right?.text]).toEqual(['const b = 2;', 'const b = 20;']);
    expect([rows[4].left, rows[4].right?.text]).toEqual([undefined, 'const c = 30;']);
    const last = rows[rows.length - 1];
    expect([last.left?.text, last.right]).toEqual(['gone', undefined]);
  });
});
