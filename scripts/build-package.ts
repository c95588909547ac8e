/**
 * Builds one of the stand-alone library packages, packages/<name>, from src/<name> (its `prepack`):
 * `node --import tsx scripts/build-package.ts verify|client`. The JavaScript and .d.ts come from the
 * same sources as Herald's own dist/, compiled by the TypeScript compiler; nothing is copied by hand.
 *
 * The package must install with no dependencies, so what it ships may import only its own files and
 * Node's built-ins. The client's types are derived from the API's TypeBox schemas
 * (`Static<typeof EndpointOut>` in src/client/types.ts) — type-only imports of server code and of
 * typebox — so each type alias that names something from outside the folder is written out in the
 * .d.ts as the plain object type the compiler resolves it to, and those imports are dropped. Anything
 * else reaching outside fails the build, naming the file and the import.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const PACKAGES = ['verify', 'client'];

const repo = resolve(import.meta.dirname, '..');
const name = process.argv[2] ?? '';
if (!PACKAGES.includes(name)) fail(`usage: build-package.ts ${PACKAGES.join('|')}`);

const srcDir = join(repo, 'src', name);
const pkgDir = join(repo, 'packages', name);
const outDir = join(pkgDir, 'dist');

function fail(message: string): never {
  process.stderr.write(`build-package: ${message}\n`);
  process.exit(1);
}

function readJson(path: string): { name: string; version: string; dependencies?: object } {
  return JSON.parse(readFileSync(path, 'utf8'));
}

// One version for Herald and its libraries: a library released beside a server speaks its API.
const herald = readJson(join(repo, 'package.json'));
const pkg = readJson(join(pkgDir, 'package.json'));
if (pkg.version !== herald.version) {
  fail(
    `${pkg.name} is version ${pkg.version} but herald is ${herald.version}: set packages/${name}/package.json`,
  );
}
if (pkg.dependencies && Object.keys(pkg.dependencies).length > 0)
  fail(`${pkg.name} must have no dependencies`);

// Compiler options from tsconfig.json, so the libraries compile exactly as the rest of src/ does.
const parsed = ts.getParsedCommandLineOfConfigFile(
  join(repo, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => fail(ts.flattenDiagnosticMessageText(d.messageText, '\n')),
  },
);
if (!parsed) fail('cannot read tsconfig.json');
const options: ts.CompilerOptions = {
  ...parsed.options,
  noEmit: false,
  declaration: true,
  rewriteRelativeImportExtensions: true,
  rootDir: join(repo, 'src'),
  outDir: join(pkgDir, '.tsc-out'), // never written: paths are mapped to dist/ below
};
const program = ts.createProgram([join(srcDir, 'index.ts')], options);
const checker = program.getTypeChecker();

const errors = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length > 0) {
  fail(
    ts.formatDiagnostics(errors, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => repo,
      getNewLine: () => '\n',
    }),
  );
}

const inPackage = (file: string) => file.startsWith(srcDir + sep);
const own = program.getSourceFiles().filter((sf) => inPackage(sf.fileName));

/** The module specifier reaches outside src/<name> and Node's built-ins (server code, or a package). */
function importsOutside(sf: ts.SourceFile, spec: string): boolean {
  if (spec.startsWith('node:')) return false;
  return !spec.startsWith('.') || !inPackage(resolve(dirname(sf.fileName), spec));
}

/** Local names bound by the file's imports from outside the folder. */
function outsideNames(sf: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || !ts.isStringLiteral(st.moduleSpecifier)) continue;
    if (!importsOutside(sf, st.moduleSpecifier.text)) continue;
    const clause = st.importClause;
    if (clause?.name) names.add(clause.name.text);
    const bindings = clause?.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) for (const el of bindings.elements) names.add(el.name.text);
  }
  return names;
}

function mentions(node: ts.Node, names: Set<string>): boolean {
  if (ts.isIdentifier(node) && names.has(node.text)) return true;
  return ts.forEachChild(node, (child) => mentions(child, names) || undefined) ?? false;
}

const EXPAND_FLAGS =
  ts.NodeBuilderFlags.NoTruncation |
  ts.NodeBuilderFlags.InTypeAlias |
  ts.NodeBuilderFlags.MultilineObjectLiterals |
  ts.NodeBuilderFlags.IgnoreErrors;

/** Type aliases of `sf` that name an outside import, each with the type written out in full. */
function expansions(sf: ts.SourceFile): Map<string, ts.TypeNode> {
  const names = outsideNames(sf);
  const out = new Map<string, ts.TypeNode>();
  for (const st of sf.statements) {
    if (!ts.isTypeAliasDeclaration(st) || !mentions(st.type, names)) continue;
    const node = checker.typeToTypeNode(checker.getTypeAtLocation(st.name), undefined, EXPAND_FLAGS);
    if (!node) fail(`${relative(repo, sf.fileName)}: cannot write out the type ${st.name.text}`);
    out.set(st.name.text, node);
  }
  return out;
}

/** Rewrites a declaration file: outside imports dropped, the aliases that used them written out. */
function selfContained(sf: ts.SourceFile): ts.TransformerFactory<ts.SourceFile | ts.Bundle> {
  const expanded = expansions(sf);
  return (context) => (file) => {
    if (!ts.isSourceFile(file)) return file;
    const statements = file.statements.flatMap((st): ts.Statement[] => {
      if (ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier)) {
        return importsOutside(sf, st.moduleSpecifier.text) ? [] : [st];
      }
      const type = ts.isTypeAliasDeclaration(st) ? expanded.get(st.name.text) : undefined;
      if (!type || !ts.isTypeAliasDeclaration(st)) return [st];
      return [context.factory.updateTypeAliasDeclaration(st, st.modifiers, st.name, st.typeParameters, type)];
    });
    return context.factory.updateSourceFile(file, statements);
  };
}

rmSync(outDir, { recursive: true, force: true });
const written: string[] = [];
for (const sf of own) {
  const result = program.emit(
    sf,
    (fileName, text) => {
      // .tsc-out/<name>/x.js → dist/x.js
      const rel = relative(join(options.outDir as string, name), fileName);
      const target = join(outDir, rel);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
      written.push(target);
    },
    undefined,
    false,
    { afterDeclarations: [selfContained(sf)] },
  );
  if (result.emitSkipped) fail(`${relative(repo, sf.fileName)} was not emitted`);
}

// What was written may import only its own files and Node's built-ins.
const problems: string[] = [];
for (const file of written) {
  // Static, dynamic and `import("…")` type imports, and re-exports; comments are not read.
  for (const { fileName: spec } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
    if (spec.startsWith('node:')) continue;
    if (!spec.startsWith('.') || !resolve(dirname(file), spec).startsWith(outDir + sep)) {
      problems.push(`${relative(repo, file)} imports '${spec}'`);
    }
  }
}
if (problems.length > 0) fail(`${pkg.name} must be self-contained:\n  ${problems.join('\n  ')}`);

const files = readdirSync(outDir, { recursive: true }).length;
process.stdout.write(`${pkg.name}@${pkg.version}: ${files} files in ${relative(repo, outDir)}\n`);
