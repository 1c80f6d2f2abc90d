// Unified diff (git's patch format) → files → side-by-side rows.

export interface DiffLine {
  kind: 'context' | 'add' | 'del';
  text: string;
  oldNo?: number;
  newNo?: number;
}

export interface DiffHunk {
  header: string;
  lines: DiffLine[];
}

export interface DiffFile {
  oldPath: string;
  newPath: string;
  status: 'added' | 'deleted' | 'modified' | 'renamed';
  binary: boolean;
  hunks: DiffHunk[];
  additions: number;
  deletions: number;
}

export interface SideRow {
  kind: 'hunk' | 'row';
  header?: string;
  left?: DiffLine;
  right?: DiffLine;
}

const stripPrefix = (p: string) => (p === '/dev/null' ? p : p.replace(/^[ab]\//, ''));

export function parseUnifiedDiff(text: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: DiffHunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.startsWith('diff --git ')) {
      const m = /^diff --git a\/(.*) b\/(.*)$/.exec(line);
      file = {
        oldPath: m ? m[1] : '',
        newPath: m ? m[2] : '',
        status: 'modified',
        binary: false,
        hunks: [],
        additions: 0,
        deletions: 0,
      };
      files.push(file);
      hunk = null;
      continue;
    }
    if (!file) continue;
    if (!hunk) {
      if (line.startsWith('new file mode')) file.status = 'added';
      else if (line.startsWith('deleted file mode')) file.status = 'deleted';
      else if (line.startsWith('rename from ')) {
        file.status = 'renamed';
        file.oldPath = line.slice(12);
      } else if (line.startsWith('rename to ')) file.newPath = line.slice(10);
      else if (line.startsWith('Binary files ')) file.binary = true;
      else if (line.startsWith('--- ')) {
        const p = stripPrefix(line.slice(4));
        if (p === '/dev/null') file.status = 'added';
        else file.oldPath = p;
      } else if (line.startsWith('+++ ')) {
        const p = stripPrefix(line.slice(4));
        if (p === '/dev/null') file.status = 'deleted';
        else file.newPath = p;
      }
    }
    const h = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/.exec(line);
    if (h) {
      hunk = { header: line, lines: [] };
      file.hunks.push(hunk);
      oldNo = Number(h[1]);
      newNo = Number(h[2]);
      continue;
    }
    if (!hunk) continue;
    if (line.startsWith('+')) {
      hunk.lines.push({ kind: 'add', text: line.slice(1), newNo: newNo++ });
      file.additions++;
    } else if (line.startsWith('-')) {
      hunk.lines.push({ kind: 'del', text: line.slice(1), oldNo: oldNo++ });
      file.deletions++;
    } else if (line.startsWith(' ')) {
      hunk.lines.push({ kind: 'context', text: line.slice(1), oldNo: oldNo++, newNo: newNo++ });
    }
    // "\ No newline at end of file" and blank separators carry no line
  }
  return files;
}

// Pairs each run of deletions with the additions that follow it, so a changed line sits
// beside its replacement.
export function sideBySide(file: DiffFile): SideRow[] {
  const rows: SideRow[] = [];
  for (const hunk of file.hunks) {
    rows.push({ kind: 'hunk', header: hunk.header });
    let i = 0;
    const ls = hunk.lines;
    while (i < ls.length) {
      if (ls[i].kind === 'context') {
        rows.push({ kind: 'row', left: ls[i], right: ls[i] });
        i++;
        continue;
      }
      const dels: DiffLine[] = [];
      const adds: DiffLine[] = [];
      while (i < ls.length && ls[i].kind === 'del') dels.push(ls[i++]);
      while (i < ls.length && ls[i].kind === 'add') adds.push(ls[i++]);
      for (let k = 0; k < Math.max(dels.length, adds.length); k++) rows.push({ kind: 'row', left: dels[k], right: adds[k] });
    }
  }
  return rows;
}
