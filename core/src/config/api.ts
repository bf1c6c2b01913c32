// `@wharf/core/config`: configuration tooling — the generic decoder, the static and dynamic schemas, the
// registry they are built from, and the README table renderer — for tests, docs and tools around Wharf.
export { decode, flatToTree, formatIssues, type DecodeIssue, type DecodeResult, type TreeObject } from './decode.js';
export { dynamicSchema, problemsFromDisabled, type DynamicConfig, type ProviderConfig, type RouterConfig, type ServiceConfig, type ElementProblem } from './dynamic.js';
export { readStaticSources, decodeStatic, staticSchema } from './static.js';
export { PluginRegistry } from '../plugin/registry.js';
export { optionRows, optionTable, markedSection, markedSections } from './docs.js';
export { parseAddress } from '../entrypoint/address.js';
export { isTLSEntryPoint } from '../runtime/build.js';
export { compileRule, ruleHostNames, type CompiledRule } from '../router/rule/index.js';
export { tcpRuleHostNames } from '../tcp/rule.js';
export type { RequestFacts } from '../router/request-facts.js';
