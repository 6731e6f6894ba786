// A Node daemon on @azure/msal-node: reads {authority, clientId, clientSecret | certificate,
// scopes} as JSON on stdin, asks for a token by client credentials, prints the outcome as JSON.
// Trust for the mock's CA comes from NODE_EXTRA_CA_CERTS.
import { ConfidentialClientApplication } from "@azure/msal-node";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const auth = {
  clientId: input.clientId,
  authority: input.authority,
  // A host that is not Microsoft's: no instance discovery against the real cloud.
  knownAuthorities: [new URL(input.authority).host],
};
if (input.clientSecret) auth.clientSecret = input.clientSecret;
if (input.certificate) auth.clientCertificate = input.certificate;

const app = new ConfidentialClientApplication({ auth });
try {
  const result = await app.acquireTokenByClientCredential({ scopes: input.scopes });
  console.log(JSON.stringify({ ok: true, accessToken: result.accessToken, tenantId: result.tenantId }));
} catch (error) {
  console.log(
    JSON.stringify({ ok: false, errorCode: error.errorCode, message: String(error.errorMessage || error.message) }),
  );
}
