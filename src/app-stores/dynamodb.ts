// APP_MANAGER_DRIVER=dynamodb: Soketi's DynamoDB layout. Partition key AppId, a global secondary
// index AppKeyIndex on AppKey, PascalCase attributes, Webhooks as a JSON string.
import type { AttributeValue, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { parseApp, type App } from "../core/app.ts";
import { AppStoreError, type AppDatabase } from "../core/app-store.ts";
import type { Logger } from "../core/runtime.ts";
import { messageOf, withTimeout } from "./timeout.ts";

export interface DynamoSettings {
  table: string;
  region: string;
  endpoint?: string;
  timeoutMs: number;
  logger: Logger;
}

type Item = Record<string, AttributeValue>;

/** Soketi's attribute names for the app fields whose PascalCase is not just the capitalised field. */
const RENAMED: Record<string, string> = { id: "AppId", key: "AppKey", secret: "AppSecret" };
const attributeOf = (field: string) => RENAMED[field] ?? field[0]!.toUpperCase() + field.slice(1);
const FIELD_OF: Record<string, string> = { AppId: "id", AppKey: "key", AppSecret: "secret" };

function plain(value: AttributeValue): unknown {
  if (value.S !== undefined) return value.S;
  if (value.N !== undefined) return value.N;
  if (value.BOOL !== undefined) return value.BOOL;
  if (value.NULL) return null;
  // Soketi's docs show EnableClientMessages stored as binary "true"/"false".
  if (value.B !== undefined) return new TextDecoder().decode(value.B);
  if (value.L !== undefined) return value.L.map(plain);
  if (value.M !== undefined) return Object.fromEntries(Object.entries(value.M).map(([k, v]) => [k, plain(v)]));
  return undefined;
}

/** One item to an app, validated like a config app; numbers arrive as strings, Webhooks as JSON. */
function appFromItem(item: Item, where: string): App {
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) {
    const v = plain(value);
    if (v === null || v === undefined || v === "") continue;
    raw[FIELD_OF[name] ?? name[0]!.toLowerCase() + name.slice(1)] = v;
  }
  return parseApp(raw, where);
}

function itemFromApp(app: App): Item {
  const item: Item = {};
  for (const [field, value] of Object.entries(app)) {
    const name = attributeOf(field);
    if (typeof value === "string") item[name] = { S: value };
    else if (typeof value === "number") item[name] = { N: String(value) };
    else if (typeof value === "boolean") item[name] = { BOOL: value };
    else item[name] = { S: JSON.stringify(value) };
  }
  return item;
}

export async function openDynamoAppStore(s: DynamoSettings): Promise<AppDatabase> {
  // Loaded here, not at the top: a server on another store never loads the AWS SDK.
  const sdk = await import("@aws-sdk/client-dynamodb");
  const client: DynamoDBClient = new sdk.DynamoDBClient({
    region: s.region,
    ...(s.endpoint ? { endpoint: s.endpoint } : {}),
    maxAttempts: 2,
    requestHandler: { connectionTimeout: s.timeoutMs, requestTimeout: s.timeoutMs },
  });
  s.logger.debug(`dynamodb: apps from table ${s.table} in ${s.endpoint ?? s.region}`);

  /** Every call bounded by the timeout (and aborted at it), failures as AppStoreError. */
  // The SDK types each command's output; here every caller names the slice it reads.
  const send = async <T>(what: string, command: object): Promise<T> => {
    const abort = new AbortController();
    try {
      return (await withTimeout(client.send(command as never, { abortSignal: abort.signal }), s.timeoutMs, `dynamodb ${what}`)) as T;
    } catch (error) {
      abort.abort();
      s.logger.debug(`dynamodb ${what} failed: ${messageOf(error)}`);
      if (error instanceof AppStoreError) throw error;
      throw new AppStoreError(`dynamodb ${what} failed: ${messageOf(error)}`, { cause: error });
    }
  };
  const parse = (item: Item) => {
    try {
      return appFromItem(item, `app item in ${s.table}`);
    } catch (error) {
      throw new AppStoreError(messageOf(error), { cause: error });
    }
  };

  const store: AppDatabase = {
    async findById(id) {
      const out = await send<{ Item?: Item }>("get", new sdk.GetItemCommand({ TableName: s.table, Key: { AppId: { S: id } } }));
      return out.Item ? parse(out.Item) : undefined;
    },
    async findByKey(key) {
      const out = await send<{ Items?: Item[] }>("query by key", new sdk.QueryCommand({
        TableName: s.table,
        IndexName: "AppKeyIndex",
        KeyConditionExpression: "AppKey = :key",
        ExpressionAttributeValues: { ":key": { S: key } },
        Limit: 1,
      }));
      return out.Items?.[0] ? parse(out.Items[0]) : undefined;
    },
    async all() {
      const apps: App[] = [];
      let start: Item | undefined;
      do {
        const out: { Items?: Item[]; LastEvaluatedKey?: Item } = await send("scan", new sdk.ScanCommand({ TableName: s.table, ExclusiveStartKey: start }));
        apps.push(...(out.Items ?? []).map(parse));
        start = out.LastEvaluatedKey;
      } while (start);
      return apps.sort((a, b) => a.id.localeCompare(b.id));
    },
    async create(app) {
      // No transactions (and none in dynalite): the key check and the put are two calls.
      if (await store.findByKey(app.key)) throw new AppStoreError(`an app with key ${app.key} already exists`);
      try {
        await send("put", new sdk.PutItemCommand({ TableName: s.table, Item: itemFromApp(app), ConditionExpression: "attribute_not_exists(AppId)" }));
      } catch (error) {
        if ((error as Error).cause instanceof sdk.ConditionalCheckFailedException) throw new AppStoreError(`an app with id ${app.id} already exists`);
        throw error;
      }
    },
    async update(app) {
      try {
        await send("put", new sdk.PutItemCommand({ TableName: s.table, Item: itemFromApp(app), ConditionExpression: "attribute_exists(AppId)" }));
        return true;
      } catch (error) {
        if ((error as Error).cause instanceof sdk.ConditionalCheckFailedException) return false;
        throw error;
      }
    },
    async delete(id) {
      const out = await send<{ Attributes?: Item }>("delete", new sdk.DeleteItemCommand({ TableName: s.table, Key: { AppId: { S: id } }, ReturnValues: "ALL_OLD" }));
      return out.Attributes !== undefined;
    },
    async migrate() {
      try {
        await send("describe table", new sdk.DescribeTableCommand({ TableName: s.table }));
        return "exists";
      } catch (error) {
        if (!((error as Error).cause instanceof sdk.ResourceNotFoundException)) throw error;
      }
      await send("create table", new sdk.CreateTableCommand({
        TableName: s.table,
        AttributeDefinitions: [{ AttributeName: "AppId", AttributeType: "S" }, { AttributeName: "AppKey", AttributeType: "S" }],
        KeySchema: [{ AttributeName: "AppId", KeyType: "HASH" }],
        GlobalSecondaryIndexes: [{ IndexName: "AppKeyIndex", KeySchema: [{ AttributeName: "AppKey", KeyType: "HASH" }], Projection: { ProjectionType: "ALL" } }],
        BillingMode: "PAY_PER_REQUEST",
      }));
      // A new table takes a moment to become ACTIVE; the apps command may write right after.
      for (let i = 0; i < 60; i++) {
        const out = await send<{ Table?: { TableStatus?: string } }>("describe table", new sdk.DescribeTableCommand({ TableName: s.table }));
        if (out.Table?.TableStatus === "ACTIVE") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      s.logger.debug(`dynamodb: created table ${s.table} with index AppKeyIndex`);
      return "created";
    },
    async close() {
      client.destroy();
    },
  };
  return store;
}
