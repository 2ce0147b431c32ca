// The YAML editor: CodeMirror 6 with YAML highlighting, line numbers, live
// syntax checks (the `yaml` parser) and the server's validation errors shown
// at their line and column. Loaded only with the submit page.
import { EditorState, StateEffect, StateField } from '@codemirror/state';
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { bracketMatching, defaultHighlightStyle, indentOnInput, syntaxHighlighting } from '@codemirror/language';
import { yaml } from '@codemirror/lang-yaml';
import { type Diagnostic, lintGutter, linter, setDiagnostics } from '@codemirror/lint';
import { parseDocument } from 'yaml';

export interface LineError {
  message: string;
  line?: number;
  column?: number;
}

function toDiagnostic(state: EditorState, e: LineError): Diagnostic {
  const n = Math.min(Math.max(e.line || 1, 1), state.doc.lines);
  const line = state.doc.line(n);
  const from = Math.min(line.from + Math.max((e.column || 1) - 1, 0), line.to);
  return { from, to: Math.max(line.to, from), severity: 'error', message: e.message, source: 'server' };
}

// The server's errors for the text as it is: they stay until the text changes.
// The linter below reports them with the syntax errors, so its runs (the
// first one after the editor opens, too) keep them.
const setServerErrors = StateEffect.define<LineError[]>();
const serverErrors = StateField.define<LineError[]>({
  create: () => [],
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setServerErrors)) return e.value;
    return tr.docChanged ? [] : v;
  },
});

/** YAML syntax errors as the user types (the server checks the rest on submit). */
const syntax = linter(
  (view) => {
    const doc = parseDocument(view.state.doc.toString(), { prettyErrors: false });
    const server = view.state.field(serverErrors).map((e) => toDiagnostic(view.state, e));
    return server.concat(doc.errors.map((err) => {
      const [from, to] = err.pos;
      return {
        from: Math.min(from, view.state.doc.length),
        to: Math.min(Math.max(to, from), view.state.doc.length),
        severity: 'error' as const,
        message: err.message.split('\n')[0],
        source: 'YAML',
      };
    }));
  },
  { delay: 400 },
);

export function createEditor(parent: HTMLElement, doc: string, onChange: (text: string) => void, label: string): EditorView {
  return new EditorView({
    parent,
    state: EditorState.create({
      doc,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightActiveLine(),
        drawSelection(),
        history(),
        indentOnInput(),
        bracketMatching(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        yaml(),
        lintGutter(),
        serverErrors,
        syntax,
        // Tab indents; Escape then Tab leaves the editor (CodeMirror's rule)
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorState.tabSize.of(2),
        EditorView.contentAttributes.of({ 'aria-label': label }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
}

/** Replace the text (import, switching from the form) unless it is the same. */
export function setText(view: EditorView, text: string) {
  if (view.state.doc.toString() === text) return;
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
}

/** Show the server's errors at their lines; they stay until the next edit. */
export function showErrors(view: EditorView, errors: LineError[]) {
  view.dispatch({ effects: setServerErrors.of(errors) });
  view.dispatch(setDiagnostics(view.state, errors.map((e) => toDiagnostic(view.state, e))));
}

/** Put the cursor at line:column and bring it into view. */
export function goTo(view: EditorView, line: number, column = 1) {
  const d = toDiagnostic(view.state, { message: '', line, column });
  view.dispatch({ selection: { anchor: d.from }, effects: EditorView.scrollIntoView(d.from, { y: 'center' }) });
  view.focus();
}
