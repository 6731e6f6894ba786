#!/usr/bin/env bash
# Deploy entra-lab's client app to Azure App Service (Web App for Containers) with `az`
# commands, as one command a user runs once, and can run again (every step checks first).
#
#   deploy/azure.sh --resource-group RG --location westeurope --registry myacr --app my-app \
#     --tenant-id GUID --client-id GUID [--client-secret-file FILE] [--key-vault VAULT] \
#     [--secretless [--identity NAME]] [--plan PLAN] [--sku B1] [--tag TAG] [--dry-run] \
#     [--no-smoke-test]
#
# Every flag also reads from the environment (shown by --help). Needs: az (logged in: `az
# login`), docker (BuildKit), curl, python3; uv for the smoke test (checked first: one line
# naming what is missing, exit 2; a dry run needs only python3). Steps, in order:
#   1. resource group; 2. container registry (ACR); 3. the image, built for linux/amd64 and
#   pushed; 4. Linux App Service plan; 5. Web App for Containers running that image, pulling it
#   with its system-assigned managed identity (AcrPull on the registry); with --secretless, a
#   user-assigned managed identity too, which signs the app in; 6. app settings
#   (CLIENT_SECRET as a Key Vault reference with --key-vault; --secretless: no secret at all,
#   MANAGED_IDENTITY_CLIENT_ID instead); 7. HTTPS only and the health check on /healthz;
#   8. the app's https redirect URIs added to its app registration (--secretless: and a
#   federated credential trusting the identity); 9. smoke test: /healthz, then `conformance
#   run --target live` when ENTRA_USERNAME and ENTRA_PASSWORD name a test user.
# --dry-run prints every command (existence checks included) and runs none. Secrets never
# appear on a command line: they go through files readable only by you.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: deploy/azure.sh [options]            (each option can also come from the environment)

Required:
  --resource-group NAME     AZ_RESOURCE_GROUP   resource group (created if missing)
  --location REGION         AZ_LOCATION         e.g. westeurope (for everything created)
  --registry NAME           AZ_REGISTRY         Azure Container Registry name (5-50 letters/digits)
  --app NAME                AZ_APP              web app name: https://NAME.azurewebsites.net
  --tenant-id GUID          TENANT_ID           your tenant
  --client-id GUID          CLIENT_ID           the app registration's application (client) id
  --client-secret-file FILE CLIENT_SECRET_FILE  a file holding the client secret (or set
                            CLIENT_SECRET); optional with --key-vault if the vault has it;
                                                none with --secretless
Optional:
  --secretless              AZ_SECRETLESS=1     no client secret: the Web App's user-assigned
                                                managed identity signs the app in (a federated
                                                credential on the app registration trusts it)
  --identity NAME           AZ_IDENTITY         that identity's name (APP-identity); created
                                                if missing
  --key-vault NAME          AZ_KEY_VAULT        keep the secret in this (RBAC) vault; the app
                                                setting becomes a Key Vault reference
  --secret-name NAME        AZ_SECRET_NAME      the vault secret's name (entra-lab-client-secret)
  --plan NAME               AZ_PLAN             App Service plan (NAME-plan)
  --sku SKU                 AZ_SKU              plan size (B1)
  --image-name NAME         AZ_IMAGE_NAME       repository in the registry (entra-lab)
  --tag TAG                 AZ_IMAGE_TAG        image tag (the git commit, else "latest")
  --dry-run                                     print every command, run none
  --no-smoke-test                               stop after the deployment
  -h, --help
EOF
}

die() { echo "deploy/azure.sh: $*" >&2; exit 2; }

RG=${AZ_RESOURCE_GROUP:-} LOCATION=${AZ_LOCATION:-} ACR=${AZ_REGISTRY:-} APP=${AZ_APP:-}
TENANT=${TENANT_ID:-} CLIENT=${CLIENT_ID:-} SECRET_FILE=${CLIENT_SECRET_FILE:-}
VAULT=${AZ_KEY_VAULT:-} SECRET_NAME=${AZ_SECRET_NAME:-entra-lab-client-secret}
PLAN=${AZ_PLAN:-} SKU=${AZ_SKU:-B1} IMAGE_NAME=${AZ_IMAGE_NAME:-entra-lab} TAG=${AZ_IMAGE_TAG:-}
SECRETLESS=${AZ_SECRETLESS:-0} IDENTITY=${AZ_IDENTITY:-}
DRY_RUN=0 SMOKE=1
while (($#)); do
  case $1 in
    --resource-group) RG=${2:-}; shift 2 ;;
    --location) LOCATION=${2:-}; shift 2 ;;
    --registry) ACR=${2:-}; shift 2 ;;
    --app) APP=${2:-}; shift 2 ;;
    --tenant-id) TENANT=${2:-}; shift 2 ;;
    --client-id) CLIENT=${2:-}; shift 2 ;;
    --client-secret-file) SECRET_FILE=${2:-}; shift 2 ;;
    --key-vault) VAULT=${2:-}; shift 2 ;;
    --secret-name) SECRET_NAME=${2:-}; shift 2 ;;
    --plan) PLAN=${2:-}; shift 2 ;;
    --sku) SKU=${2:-}; shift 2 ;;
    --image-name) IMAGE_NAME=${2:-}; shift 2 ;;
    --tag) TAG=${2:-}; shift 2 ;;
    --secretless) SECRETLESS=1; shift ;;
    --identity) IDENTITY=${2:-}; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --no-smoke-test) SMOKE=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done

# -- tools, before anything else: one line naming every one that is missing -------------------
# A dry run runs nothing but python3 (the settings file); a deployment needs the rest, and uv
# for the live suites of the smoke test.
tools=(python3)
((DRY_RUN)) || tools+=(az docker curl)
if ((!DRY_RUN && SMOKE)) && [[ -n ${ENTRA_USERNAME:-} && -n ${ENTRA_PASSWORD:-} ]]; then tools+=(uv); fi
absent=()
for tool in "${tools[@]}"; do command -v "$tool" >/dev/null 2>&1 || absent+=("$tool"); done
if ((${#absent[@]})); then
  echo "deploy/azure.sh: not found on PATH: ${absent[*]} (install: az https://learn.microsoft.com/cli/azure/install-azure-cli, docker with BuildKit, curl, python3, uv https://docs.astral.sh/uv/)" >&2
  exit 2
fi

# -- parameters: every problem at once ---------------------------------------------------------
problems=()
for pair in "--resource-group:$RG" "--location:$LOCATION" "--registry:$ACR" "--app:$APP" \
            "--tenant-id:$TENANT" "--client-id:$CLIENT"; do
  [[ -n ${pair#*:} ]] || problems+=("${pair%%:*} is required")
done
guid='^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'
[[ -z $TENANT || $TENANT =~ $guid ]] || problems+=("--tenant-id must be a GUID, got '$TENANT'")
[[ -z $CLIENT || $CLIENT =~ $guid ]] || problems+=("--client-id must be a GUID, got '$CLIENT'")
[[ -z $ACR || $ACR =~ ^[a-zA-Z0-9]{5,50}$ ]] \
  || problems+=("--registry must be 5-50 letters or digits, got '$ACR'")
[[ -z $APP || $APP =~ ^[a-zA-Z0-9][a-zA-Z0-9-]{0,58}[a-zA-Z0-9]$ ]] \
  || problems+=("--app must be 2-60 letters, digits or hyphens, got '$APP'")
SECRET=${CLIENT_SECRET:-}
if [[ -n $SECRET_FILE ]]; then
  if [[ -r $SECRET_FILE ]]; then SECRET=$(<"$SECRET_FILE"); else
    problems+=("--client-secret-file: cannot read '$SECRET_FILE'"); fi
fi
[[ $SECRETLESS == 0 || $SECRETLESS == 1 ]] \
  || problems+=("AZ_SECRETLESS must be 0 or 1, got '$SECRETLESS'")
if [[ $SECRETLESS == 1 ]]; then
  # A secret given anyway would stay in App Service, or be used instead of the identity.
  [[ -z $SECRET && -z $SECRET_FILE && -z $VAULT ]] \
    || problems+=("--secretless uses no client secret: drop --client-secret-file, CLIENT_SECRET and --key-vault")
  [[ -z $IDENTITY || $IDENTITY =~ ^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$ ]] \
    || problems+=("--identity must be 3-128 letters, digits, hyphens or underscores, got '$IDENTITY'")
else
  [[ -n $SECRET || -n $VAULT ]] \
    || problems+=("a client secret is required: --client-secret-file FILE or CLIENT_SECRET (or --key-vault holding it), or --secretless")
fi
if ((${#problems[@]})); then
  printf 'deploy/azure.sh: %s\n' "${problems[@]}" >&2
  echo "Run deploy/azure.sh --help for every option." >&2
  exit 2
fi
PLAN=${PLAN:-$APP-plan}
IDENTITY=${IDENTITY:-$APP-identity}
if [[ -z $TAG ]]; then TAG=$(git rev-parse --short HEAD 2>/dev/null || echo latest); fi
IMAGE=$ACR.azurecr.io/$IMAGE_NAME:$TAG
APP_URL=https://$APP.azurewebsites.net
cd "$(dirname "$0")/.."  # the build context is the repository root

# -- running (or printing) commands ------------------------------------------------------------
PRIVATE=$(mktemp -d)  # secrets in files, never in argv (visible to every local user)
chmod 700 "$PRIVATE"
trap 'rm -rf "$PRIVATE"' EXIT

# show CMD...: the command, on stderr (so `$(query ...)` keeps only the answer), quoted for a
# shell when needed.
show() {
  local out="+" arg
  for arg in "$@"; do
    if [[ $arg =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then out+=" $arg"
    else out+=" '${arg//\'/\'\\\'\'}'"; fi
  done
  printf '%s\n' "$out" >&2
}
# run CMD...: print it, then run it (dry run: print only).
run() { show "$@"; ((DRY_RUN)) || "$@"; }
# query CMD...: a read-only command whose output the script uses; "" in a dry run.
query() { show "$@"; ((DRY_RUN)) || "$@"; }
# exists CMD...: true when the `show` command finds the resource (dry run: "not found").
exists() { show "$@"; ((DRY_RUN)) && return 1; "$@" >/dev/null 2>&1; }
step() { printf '\n== %s\n' "$*" >&2; }

step "0. signed in to Azure"
query az account show --query '{subscription:name, id:id}' --output tsv

step "1. resource group $RG"
exists az group show --name "$RG" \
  || run az group create --name "$RG" --location "$LOCATION" --output none

step "2. container registry $ACR"
exists az acr show --resource-group "$RG" --name "$ACR" \
  || run az acr create --resource-group "$RG" --name "$ACR" --sku Basic \
       --admin-enabled false --location "$LOCATION" --output none

step "3. the image $IMAGE (linux/amd64: what App Service runs)"
run az acr login --name "$ACR"
run docker build --platform linux/amd64 --tag "$IMAGE" .
run docker push "$IMAGE"

step "4. Linux App Service plan $PLAN"
exists az appservice plan show --resource-group "$RG" --name "$PLAN" \
  || run az appservice plan create --resource-group "$RG" --name "$PLAN" --is-linux \
       --sku "$SKU" --location "$LOCATION" --output none

step "5. Web App for Containers $APP, pulling with its managed identity"
exists az webapp show --resource-group "$RG" --name "$APP" \
  || run az webapp create --resource-group "$RG" --plan "$PLAN" --name "$APP" \
       --container-image-name "$IMAGE" --assign-identity '[system]' --output none
PRINCIPAL=$(query az webapp identity assign --resource-group "$RG" --name "$APP" \
  --query principalId --output tsv)
PRINCIPAL=${PRINCIPAL:-<principal-id>}
ACR_ID=$(query az acr show --resource-group "$RG" --name "$ACR" --query id --output tsv)
ACR_ID=${ACR_ID:-<registry-id>}
granted=$(query az role assignment list --assignee "$PRINCIPAL" --role AcrPull \
  --scope "$ACR_ID" --query '[].id' --output tsv)
[[ -n $granted ]] \
  || run az role assignment create --assignee-object-id "$PRINCIPAL" \
       --assignee-principal-type ServicePrincipal --role AcrPull --scope "$ACR_ID" --output none
run az webapp config set --resource-group "$RG" --name "$APP" \
  --generic-configurations '{"acrUseManagedIdentityCreds": true}' --output none
# A re-run deploys the new tag (create only sets the image the first time).
run az webapp config container set --resource-group "$RG" --name "$APP" \
  --container-image-name "$IMAGE" --output none
if ((SECRETLESS)); then
  # Only a user-assigned identity can be an app registration's federated credential (Learn,
  # "Configure an application to trust a managed identity", prerequisites).
  step "5b. user-assigned managed identity $IDENTITY, on the Web App"
  exists az identity show --resource-group "$RG" --name "$IDENTITY" \
    || run az identity create --resource-group "$RG" --name "$IDENTITY" \
         --location "$LOCATION" --output none
  IDENTITY_ID=$(query az identity show --resource-group "$RG" --name "$IDENTITY" \
    --query id --output tsv)
  IDENTITY_ID=${IDENTITY_ID:-<identity-id>}
  IDENTITY_CLIENT=$(query az identity show --resource-group "$RG" --name "$IDENTITY" \
    --query clientId --output tsv)
  IDENTITY_CLIENT=${IDENTITY_CLIENT:-<identity-client-id>}
  IDENTITY_PRINCIPAL=$(query az identity show --resource-group "$RG" --name "$IDENTITY" \
    --query principalId --output tsv)
  IDENTITY_PRINCIPAL=${IDENTITY_PRINCIPAL:-<identity-principal-id>}
  # Added next to the system-assigned one (which pulls the image); assigning again is a no-op.
  run az webapp identity assign --resource-group "$RG" --name "$APP" \
    --identities "$IDENTITY_ID" --output none
fi

step "6. app settings (environment variables of the container)"
if ((SECRETLESS)); then
  SECRET_SETTING=
elif [[ -n $VAULT ]]; then
  VAULT_ID=$(query az keyvault show --name "$VAULT" --query id --output tsv)
  VAULT_ID=${VAULT_ID:-<vault-id>}
  if [[ -n $SECRET ]]; then
    printf '%s' "$SECRET" > "$PRIVATE/client-secret"
    run az keyvault secret set --vault-name "$VAULT" --name "$SECRET_NAME" \
      --file "$PRIVATE/client-secret" --output none
  fi
  # The app reads the secret through its identity: Key Vault Secrets User on the vault.
  granted=$(query az role assignment list --assignee "$PRINCIPAL" --role "Key Vault Secrets User" \
    --scope "$VAULT_ID" --query '[].id' --output tsv)
  [[ -n $granted ]] \
    || run az role assignment create --assignee-object-id "$PRINCIPAL" \
         --assignee-principal-type ServicePrincipal --role "Key Vault Secrets User" \
         --scope "$VAULT_ID" --output none
  SECRET_SETTING="@Microsoft.KeyVault(VaultName=$VAULT;SecretName=$SECRET_NAME)"
else
  SECRET_SETTING=$SECRET
fi
# SECRET_KEY signs the sessions: made once, kept on re-runs (a new one signs everybody out).
SECRET_KEY=$(query az webapp config appsettings list --resource-group "$RG" --name "$APP" \
  --query "[?name=='SECRET_KEY'].value | [0]" --output tsv)
if [[ -z $SECRET_KEY ]]; then
  SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
fi
SETTINGS_FILE="$PRIVATE/app-settings.json"
# `--settings @FILE` takes the format `az webapp config appsettings list` prints. The values
# reach Python through its environment (readable by this user only), not its argv.
# Secretless: MANAGED_IDENTITY_CLIENT_ID in place of CLIENT_SECRET (the app then asks App
# Service's IDENTITY_ENDPOINT for that identity's token and signs in with it).
if ((SECRETLESS)); then CREDENTIAL=MANAGED_IDENTITY_CLIENT_ID; else CREDENTIAL=CLIENT_SECRET; fi
S_TENANT_ID=$TENANT S_CLIENT_ID=$CLIENT S_CLIENT_SECRET=$SECRET_SETTING \
S_MANAGED_IDENTITY_CLIENT_ID=${IDENTITY_CLIENT:-} S_CREDENTIAL=$CREDENTIAL \
S_REDIRECT_URI=$APP_URL/getAToken S_SECRET_KEY=$SECRET_KEY S_TRUST_PROXY=true \
S_WEBSITES_PORT=8000 python3 - "$SETTINGS_FILE" <<'PY'
import json, os, sys

names = ["TENANT_ID", "CLIENT_ID", os.environ["S_CREDENTIAL"], "REDIRECT_URI", "SECRET_KEY",
         "TRUST_PROXY", "WEBSITES_PORT"]
with open(sys.argv[1], "w") as out:
    json.dump([{"name": n, "value": os.environ["S_" + n], "slotSetting": False} for n in names], out)
PY
echo >&2 "  settings: TENANT_ID CLIENT_ID $CREDENTIAL REDIRECT_URI=$APP_URL/getAToken SECRET_KEY TRUST_PROXY=true WEBSITES_PORT=8000 (values of secrets not shown)"
run az webapp config appsettings set --resource-group "$RG" --name "$APP" \
  --settings "@$SETTINGS_FILE" --output none
if ((SECRETLESS)); then
  # A secret left from an earlier deployment would be used instead of the identity.
  run az webapp config appsettings delete --resource-group "$RG" --name "$APP" \
    --setting-names CLIENT_SECRET --output none
fi

step "7. HTTPS only; health check on /healthz"
run az webapp update --resource-group "$RG" --name "$APP" --https-only true --output none
run az webapp config set --resource-group "$RG" --name "$APP" \
  --generic-configurations '{"healthCheckPath": "/healthz"}' --output none

step "8. redirect URIs on the app registration $CLIENT"
current=$(query az ad app show --id "$CLIENT" --query 'web.redirectUris' --output tsv)
wanted=("$APP_URL/getAToken" "$APP_URL/")
mapfile -t uris < <(printf '%s\n' "$current" | tr '\t' '\n' | sed '/^$/d')
missing=0
for uri in "${wanted[@]}"; do
  printf '%s\n' "${uris[@]}" | grep -qxF -- "$uri" || { uris+=("$uri"); missing=1; }
done
if ((missing)) || ((DRY_RUN)); then
  # The list replaces the registration's: the URIs it had are kept in it.
  run az ad app update --id "$CLIENT" --web-redirect-uris "${uris[@]}"
else
  echo "  already registered: ${wanted[*]}" >&2
fi
if ((SECRETLESS)); then
  # The registration trusts the identity's tokens (Learn, "Configure an application to trust
  # a managed identity"): issuer the tenant's v2.0 authority, subject the identity's object
  # (principal) id, audience api://AzureADTokenExchange.
  CREDENTIAL_NAME=$APP-managed-identity
  if exists az ad app federated-credential show --id "$CLIENT" \
       --federated-credential-id "$CREDENTIAL_NAME"; then
    echo "  already trusted: $CREDENTIAL_NAME" >&2
  else
    CREDENTIAL_FILE="$PRIVATE/federated-credential.json"
    S_NAME=$CREDENTIAL_NAME S_ISSUER=https://login.microsoftonline.com/$TENANT/v2.0 \
    S_SUBJECT=$IDENTITY_PRINCIPAL S_APP=$APP python3 - "$CREDENTIAL_FILE" <<'PY'
import json, os, sys

credential = {
    "name": os.environ["S_NAME"],
    "issuer": os.environ["S_ISSUER"],
    "subject": os.environ["S_SUBJECT"],
    "audiences": ["api://AzureADTokenExchange"],
    "description": f"the managed identity of the Web App {os.environ['S_APP']}",
}
with open(sys.argv[1], "w") as out:
    json.dump(credential, out)
PY
    # --parameters: a JSON file's path (az reads it as it parses the command line).
    run az ad app federated-credential create --id "$CLIENT" --parameters "$CREDENTIAL_FILE" \
      --output none
  fi
fi

step "9. smoke test against $APP_URL"
if ((!SMOKE)); then
  echo "  skipped (--no-smoke-test)"
  exit 0
fi
# App Service pulls and starts the new image in a few minutes; the health check path answers
# 200 once gunicorn serves.
run curl --fail --silent --show-error --retry 60 --retry-delay 10 --retry-all-errors \
  --max-time 30 "$APP_URL/healthz"
if [[ -n ${ENTRA_USERNAME:-} && -n ${ENTRA_PASSWORD:-} ]]; then
  export ENTRA_TENANT_ID=$TENANT ENTRA_CLIENT_ID=$CLIENT ENTRA_APP_URL=$APP_URL
  if [[ -n $SECRET ]]; then
    export ENTRA_CLIENT_SECRET=$SECRET
    run uv run conformance run --target live --report deploy-smoke-report
  elif ((SECRETLESS)) && [[ -n ${ENTRA_CLIENT_SECRET:-} ]]; then
    # The suites' own token requests (client credentials) still need a secret of the
    # registration: one kept for tests, never given to the app.
    run uv run conformance run --target live --report deploy-smoke-report
  elif ((SECRETLESS)); then
    echo "  live suites skipped: they need a client secret of the registration for their own token requests (ENTRA_CLIENT_SECRET); the app has none"
  else
    echo "  live suites skipped: they need the client secret (CLIENT_SECRET), which is only in the vault"
  fi
else
  echo "  live suites skipped: set ENTRA_USERNAME and ENTRA_PASSWORD (a test user without MFA)"
  echo "  to sign in through $APP_URL with \`conformance run --target live\`"
fi
