// The mock-only image from Node's testcontainers, and a client-credentials token from it with
// @azure/msal-node: the recipe of docs/containers.md ("From other languages"), run by
// tests/containers/test_node_testcontainers.py.
//
//   MOCK_ENTRA_IMAGE=mock-entra:local node testcontainers_client_credentials.mjs
//
// Prints one JSON line: {info, token: the outcome of client_credentials.mjs}.
//
// 1. A free host port first: the mock builds every URL it hands out from its public URL, so it
//    is told the published port before it starts (MOCK_ENTRA_PUBLIC_URL).
// 2. Ready when the image's HEALTHCHECK says healthy (its discovery answers over TLS).
// 3. `mock-entra info --json` in the container: authority, client id and secret, users.
// 4. The CA from /ca.pem into a file here. Node reads NODE_EXTRA_CA_CERTS only when a process
//    starts, so the MSAL client runs in a child process given it (in a test runner: start the
//    container in the global setup and set NODE_EXTRA_CA_CERTS for the workers it starts).
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, Wait } from "testcontainers";

const image = process.env.MOCK_ENTRA_IMAGE || "mock-entra:local";

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function run(file, input, env) {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [file], { env, timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file}: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim().split("\n").pop()));
    });
    child.stdin.end(JSON.stringify(input));
  });
}

async function inContainer(container, argv) {
  const done = await container.exec(argv);
  if (done.exitCode !== 0) throw new Error(`${argv.join(" ")}: exit ${done.exitCode}\n${done.stderr}`);
  return done.stdout;
}

const port = await freePort();
const container = await new GenericContainer(image)
  .withExposedPorts({ container: 8443, host: port })
  .withEnvironment({ MOCK_ENTRA_PUBLIC_URL: `https://localhost:${port}` })
  .withWaitStrategy(Wait.forHealthCheck())
  .withStartupTimeout(90_000)
  .start();
const files = await mkdtemp(join(tmpdir(), "mock-entra-ca-"));
try {
  const info = JSON.parse(await inContainer(container, ["mock-entra", "info", "--json"]));
  const caFile = join(files, "ca.pem");
  await writeFile(caFile, await inContainer(container, ["cat", "/ca.pem"]));
  const token = await run(
    new URL("client_credentials.mjs", import.meta.url).pathname,
    {
      authority: info.authority,
      clientId: info.client_id,
      clientSecret: info.client_secret,
      scopes: ["https://graph.microsoft.com/.default"],
    },
    { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
  );
  console.log(JSON.stringify({ info: { authority: info.authority, port }, token }));
} finally {
  await container.stop();
  await rm(files, { recursive: true, force: true });
}
