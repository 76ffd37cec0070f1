/**
 * The oslo.policy rule language: checks (`role:admin`, `rule:x`, `field:%(target.a)s`,
 * `@`, `!`) joined by `not` > `and` > `or` and parentheses. Tokenisation follows oslo's
 * exactly (split on whitespace, then peel parentheses off the ends of each word), so a
 * policy file means here what it means to OpenStack. Where oslo silently turns a
 * malformed rule into "never", we refuse it with the rule name and position instead, so
 * an operator's typo is found at start-up rather than as a mysterious 403.
 */
import { PolicyParseError } from './errors.js';

/** A piece of a check's right-hand side: literal text or a `%(key)s` taken from the target. */
export type TemplatePart = string | { readonly key: string };
export type Template = readonly TemplatePart[];

export type Check =
  | { readonly type: 'always' }
  | { readonly type: 'never' }
  | { readonly type: 'not'; readonly check: Check }
  | { readonly type: 'and' | 'or'; readonly checks: readonly Check[] }
  | { readonly type: 'rule'; readonly name: string }
  | { readonly type: 'role'; readonly match: string; readonly template: Template }
  | {
      readonly type: 'generic';
      readonly kind: string;
      /** The left side is either a constant (`True`, `'member'`) or a path into the credentials. */
      readonly left: { readonly literal: string } | { readonly path: readonly string[] };
      readonly match: string;
      readonly template: Template;
    };

const ALWAYS: Check = { type: 'always' };
const NEVER: Check = { type: 'never' };

type Token =
  | { readonly kind: '(' | ')' | 'and' | 'or' | 'not'; readonly pos: number }
  | { readonly kind: 'check'; readonly pos: number; readonly text: string };

/**
 * Parses one check string. `ruleName` only labels errors. Positions in errors are
 * 0-based character offsets into `checkStr`.
 */
export function parseRule(checkStr: string, ruleName = '<anonymous>'): Check {
  // oslo: the empty string (unlike a blank one) is the "always" rule.
  if (checkStr === '') return ALWAYS;
  return new Parser(checkStr, ruleName).parse();
}

/** The rule written back in oslo's canonical form (its `str(check)`): `(a or (b and not c))`. */
export function formatCheck(check: Check): string {
  switch (check.type) {
    case 'always':
      return '@';
    case 'never':
      return '!';
    case 'not':
      return `not ${formatCheck(check.check)}`;
    case 'and':
    case 'or':
      return `(${check.checks.map(formatCheck).join(` ${check.type} `)})`;
    case 'rule':
      return `rule:${check.name}`;
    case 'role':
      return `role:${check.match}`;
    case 'generic':
      return `${check.kind}:${check.match}`;
  }
}

/** Every rule name this check refers to with `rule:`, for cycle and dangling-reference checks. */
export function ruleReferences(check: Check): string[] {
  switch (check.type) {
    case 'rule':
      return [check.name];
    case 'not':
      return ruleReferences(check.check);
    case 'and':
    case 'or':
      return check.checks.flatMap(ruleReferences);
    default:
      return [];
  }
}

class Parser {
  private readonly tokens: Token[];
  private next = 0;

  constructor(
    private readonly source: string,
    private readonly ruleName: string,
  ) {
    this.tokens = tokenize(source);
  }

  parse(): Check {
    if (this.tokens.length === 0) this.fail(0, 'the rule is blank; use "" or "@" to allow all');
    const check = this.parseOr();
    const extra = this.tokens[this.next];
    if (extra) {
      this.fail(
        extra.pos,
        extra.kind === ')' ? 'unmatched ")"' : `expected "and" or "or" before ${describe(extra)}`,
      );
    }
    return check;
  }

  private parseOr(): Check {
    return this.parseJoined('or', () => this.parseAnd());
  }

  private parseAnd(): Check {
    return this.parseJoined('and', () => this.parseNot());
  }

  private parseJoined(op: 'and' | 'or', operand: () => Check): Check {
    const checks = [operand()];
    while (this.tokens[this.next]?.kind === op) {
      this.next++;
      checks.push(operand());
    }
    return checks.length === 1 ? (checks[0] as Check) : { type: op, checks };
  }

  private parseNot(): Check {
    if (this.tokens[this.next]?.kind !== 'not') return this.parseAtom();
    this.next++;
    return { type: 'not', check: this.parseNot() };
  }

  private parseAtom(): Check {
    const token = this.tokens[this.next];
    if (!token) {
      const previous = this.tokens[this.next - 1];
      this.fail(this.source.length, `expected a check after ${describe(previous)}`);
    }
    this.next++;
    if (token.kind === 'check') return this.parseCheck(token.text, token.pos);
    if (token.kind !== '(') this.fail(token.pos, `expected a check, found ${describe(token)}`);
    const inner = this.parseOr();
    const close = this.tokens[this.next];
    if (!close) this.fail(token.pos, '"(" is never closed');
    if (close.kind !== ')') this.fail(close.pos, `expected ")" before ${describe(close)}`);
    this.next++;
    return inner;
  }

  /** One `kind:match` word (oslo's `_parse_check`); `pos` is where the word starts. */
  private parseCheck(text: string, pos: number): Check {
    if (text === '@') return ALWAYS;
    if (text === '!') return NEVER;
    if (isQuoted(text)) this.fail(pos, `a quoted string (${text}) is not a check`);
    const colon = text.indexOf(':');
    if (colon < 0) this.fail(pos, `"${text}" is not a check: expected kind:match, "@" or "!"`);
    if (colon === 0) this.fail(pos, `"${text}" has nothing before ":"`);
    const kind = text.slice(0, colon);
    const match = text.slice(colon + 1);
    const matchPos = pos + colon + 1;
    switch (kind) {
      case 'rule':
        if (match === '') this.fail(matchPos, '"rule:" needs a rule name');
        return { type: 'rule', name: match };
      case 'role':
        return { type: 'role', match, template: this.parseTemplate(match, matchPos) };
      case 'http':
      case 'https':
        // Remote checks would make every API call depend on another web service.
        return this.fail(pos, `${kind} checks are not supported`);
    }
    const template = this.parseTemplate(match, matchPos);
    const literal = parseLiteral(kind);
    if (literal !== undefined) return { type: 'generic', kind, left: { literal }, match, template };
    if (/^['"]|['"]$/.test(kind)) this.fail(pos, `unbalanced quote in ${kind}`);
    return { type: 'generic', kind, left: { path: kind.split('.') }, match, template };
  }

  /**
   * Python's `match % target` with a mapping: `%(key)s` substitutes and `%%` is a percent
   * sign. Python raises at enforcement time on any other `%`; we refuse it here.
   */
  private parseTemplate(text: string, pos: number): Template {
    const parts: TemplatePart[] = [];
    let literal = '';
    let i = 0;
    while (i < text.length) {
      if (text[i] !== '%') {
        literal += text[i];
        i++;
      } else if (text[i + 1] === '%') {
        literal += '%';
        i += 2;
      } else if (text[i + 1] === '(') {
        // Like Python, the key runs to the parenthesis that balances the opening one.
        let depth = 1;
        let end = i + 2;
        for (; end < text.length && depth > 0; end++) {
          if (text[end] === '(') depth++;
          else if (text[end] === ')') depth--;
        }
        if (depth > 0) this.fail(pos + i, '"%(" is never closed');
        if (text[end] !== 's') this.fail(pos + end, 'only %(name)s substitutions are supported');
        if (literal) parts.push(literal);
        literal = '';
        parts.push({ key: text.slice(i + 2, end - 1) });
        i = end + 1;
      } else {
        this.fail(pos + i, 'a "%" must start a %(name)s substitution or be written %%');
      }
    }
    if (literal) parts.push(literal);
    return parts;
  }

  private fail(position: number, reason: string): never {
    throw new PolicyParseError(
      `Cannot parse policy rule "${this.ruleName}" at position ${position}: ${reason}`,
      { rule: this.ruleName, position, check_str: this.source },
    );
  }
}

/** oslo's `_parse_tokenize`, keeping where each token starts. */
function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  for (const word of source.matchAll(/\S+/g)) {
    const text = word[0];
    const start = word.index;
    let first = 0;
    while (text[first] === '(') tokens.push({ kind: '(', pos: start + first++ });
    let end = text.length;
    while (end > first && text[end - 1] === ')') end--;
    const core = text.slice(first, end);
    const lower = core.toLowerCase();
    if (lower === 'and' || lower === 'or' || lower === 'not') {
      tokens.push({ kind: lower, pos: start + first });
    } else if (core !== '') {
      tokens.push({ kind: 'check', pos: start + first, text: core });
    }
    for (let i = end; i < text.length; i++) tokens.push({ kind: ')', pos: start + i });
  }
  return tokens;
}

function isQuoted(text: string): boolean {
  return text.length >= 2 && (text[0] === '"' || text[0] === "'") && text.at(-1) === text[0];
}

/**
 * oslo evaluates the left side with Python's `ast.literal_eval` and compares its `str()`;
 * these are the literals that make sense in a policy: strings, True/False/None, integers.
 */
function parseLiteral(kind: string): string | undefined {
  if (isQuoted(kind)) return kind.slice(1, -1);
  if (kind === 'True' || kind === 'False' || kind === 'None') return kind;
  if (/^-?(0|[1-9][0-9]*)$/.test(kind)) return kind;
  return undefined;
}

function describe(token: Token | undefined): string {
  if (!token) return 'the start';
  return token.kind === 'check' ? `"${token.text}"` : `"${token.kind}"`;
}
