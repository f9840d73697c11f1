// Apps from DynamoDB in Soketi's layout (AppId key, AppKeyIndex on AppKey, PascalCase attributes,
// Webhooks as a JSON string), against dynalite started here; the SDK flows on an app stored there.
import { execFile } from "node:child_process";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomApp, uniqueTable } from "../helpers/databases.ts";
import { ROOT, runtimeCommand, startServer, type TestServer } from "../helpers/server.ts";
import { sdkFlows } from "./app-store-flows.ts";

describe("apps from dynamodb (Soketi's layout, dynalite)", () => {
  const table = uniqueTable("dyn");
  const app = randomApp();
  let emulator: ReturnType<typeof dynalite>;
  let env: Record<string, string>;
  let server: TestServer;

  beforeAll(async () => {
    emulator = dynalite({ createTableMs: 10 });
    await new Promise<void>((resolve) => emulator.listen(0, "127.0.0.1", resolve));
    const endpoint = `http://127.0.0.1:${(emulator.address() as AddressInfo).port}`;
    const credentials = { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" };
    env = { APP_MANAGER: "dynamodb", DYNAMODB_ENDPOINT: endpoint, DYNAMODB_TABLE: table, AWS_REGION: "us-east-1", ...credentials };
    const client = new DynamoDBClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    // The table as Soketi's docs create it.
    await client.send(new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: "AppId", AttributeType: "S" }, { AttributeName: "AppKey", AttributeType: "S" }],
      KeySchema: [{ AttributeName: "AppId", KeyType: "HASH" }],
      GlobalSecondaryIndexes: [{ IndexName: "AppKeyIndex", KeySchema: [{ AttributeName: "AppKey", KeyType: "HASH" }], Projection: { ProjectionType: "ALL" }, ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }],
      ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
    }));
    await new Promise((r) => setTimeout(r, 100));
    await client.send(new PutItemCommand({
      TableName: table,
      Item: {
        AppId: { S: app.id }, AppKey: { S: app.key }, AppSecret: { S: app.secret },
        MaxConnections: { N: "-1" }, EnableClientMessages: { BOOL: true }, Enabled: { BOOL: true },
        MaxBackendEventsPerSecond: { N: "-1" }, MaxClientEventsPerSecond: { N: "-1" }, MaxReadRequestsPerSecond: { N: "-1" },
        Webhooks: { S: "[]" },
      },
    }));
    client.destroy();
    const started = await startServer({ defaultApp: false, env });
    server = { ...started, appId: app.id, key: app.key, secret: app.secret };
  });
  afterAll(async () => {
    await server?.stop();
    await new Promise<void>((resolve) => (emulator ? emulator.close(() => resolve()) : resolve()));
  });

  sdkFlows(() => server);

  it("switchboard migrate creates a table with the AppKeyIndex, once", async () => {
    const [cmd, base] = runtimeCommand();
    const run = (t: string) => new Promise<string>((resolve, reject) =>
      execFile(cmd, [...base, "migrate"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, DYNAMODB_TABLE: t } }, (e, out, err) => (e ? reject(new Error(err)) : resolve(out))));
    const fresh = `${table}_m`;
    expect(await run(fresh)).toMatch(`created dynamodb table ${fresh}`);
    expect(await run(fresh)).toMatch("exists: left unchanged");
  });
});
