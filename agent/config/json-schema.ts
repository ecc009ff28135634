import { z } from 'zod';
import type { Registry } from './load.ts';
import { policyUnionSchema } from './load.ts';
import { agentConfigSchema } from './schema.ts';

/*
 * JSON Schemas generated from the zod schemas the loader validates with, so editors
 * (yaml-language-server) check and complete exactly what the agent accepts. They describe
 * the input side: booleans and numbers may also be strings, as ${env:} values are.
 */
export function agentJsonSchema(): Record<string, unknown> {
  return { title: 'proxmox-diode-agent agent.yaml', ...z.toJSONSchema(agentConfigSchema, { io: 'input', unrepresentable: 'any' }) };
}

export function policyJsonSchema(registry: Registry): Record<string, unknown> {
  return { title: 'proxmox-diode-agent policy file', ...z.toJSONSchema(policyUnionSchema(registry), { io: 'input', unrepresentable: 'any' }) };
}

export const SCHEMA_FILES = { agent: 'policies/agent.schema.json', policy: 'policies/policy.schema.json' } as const;
