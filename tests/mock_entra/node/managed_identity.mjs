// Code on App Service (or a VM) getting its managed identity's token with @azure/msal-node's
// ManagedIdentityApplication: reads {resource, userAssignedClientId?} as JSON on stdin, prints
// the outcome as JSON. Where the token comes from is msal-node's own choice from the
// environment: IDENTITY_ENDPOINT and IDENTITY_HEADER (App Service), else IMDS
// (AZURE_POD_IDENTITY_AUTHORITY_HOST moves it off 169.254.169.254).
import { ManagedIdentityApplication } from "@azure/msal-node";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const config = {};
if (input.userAssignedClientId) {
  config.managedIdentityIdParams = { userAssignedClientId: input.userAssignedClientId };
}
const app = new ManagedIdentityApplication(config);
try {
  const result = await app.acquireToken({ resource: input.resource });
  console.log(
    JSON.stringify({
      ok: true,
      source: app.getManagedIdentitySource(),
      accessToken: result.accessToken,
      expiresOn: result.expiresOn,
    }),
  );
} catch (error) {
  console.log(
    JSON.stringify({ ok: false, errorCode: error.errorCode, message: String(error.errorMessage || error.message) }),
  );
}
