/** The part of the client's internal REST API this module reads: `GET /schemas/ids/{id}`. */
interface RegistryApi {
  Schema: {
    find(args: { id: number }): Promise<{
      data(): { schema?: unknown; schemaType?: unknown; references?: unknown };
    }>;
  };
}

/**
 * The schema text the registry holds under `id`. The client's public `getSchema` answers with an
 * avsc type built with its own options, which has already dropped the `decimal` logical type; the
 * text is only reachable through its REST client, `api`, and the request is the one `getSchema`
 * itself makes (`GET /schemas/ids/{id}`, with the client's auth and retries).
 */
export async function fetchSchemaText(registry: object, id: number): Promise<string> {
  const api = (registry as { api?: Partial<RegistryApi> }).api;
  if (typeof api?.Schema?.find !== 'function') {
    throw new Error('This @kafkajs/confluent-schema-registry client has no `api.Schema.find`');
  }
  const data = (await api.Schema.find({ id })).data();
  if (data.schemaType !== undefined && data.schemaType !== 'AVRO') {
    throw new Error(`Schema ${id} is ${String(data.schemaType)}, not AVRO`);
  }
  if (Array.isArray(data.references) && data.references.length > 0) {
    // lienthong's contracts are self-contained; a reference would need resolving here too.
    throw new Error(`Schema ${id} has references, which lienthong does not resolve`);
  }
  if (typeof data.schema !== 'string') throw new Error(`Schema ${id} came without its text`);
  return data.schema;
}
