#!/usr/bin/env bash
# A recording stand-in for `az`, `docker`, `curl` and `uv`, installed on PATH under those names
# by tests/deploy (bash builtins only: it runs some 25 times per deployment, so it must start
# fast). Each call appends to $STUB_LOG one record, fields separated by \x1f (unit separator):
#   CALL <program> <arg>...           the call
#   FILE <path> <content>             for an `@FILE`, `--file FILE` or `--parameters FILE`
#                                     argument (the script
#                                     deletes those files when it ends)
#   ENV <name> <value>                the ENTRA_* environment (uv only)
# `az` answers from $STUB_STATE, a bash file the test writes:
#   EXISTING=" group acr plan webapp identity fic "  ROLES="|AcrPull|"  SECRET_KEY=...
#   REDIRECT_URIS=$'a\tb'   (identity: the user-assigned one; fic: its federated credential)
set -u
US=$'\x1f'
prog=${0##*/}
{
  printf 'CALL%s%s' "$US" "$prog"
  printf "$US%s" "$@"
  printf '\n'
  previous=
  for arg in "$@"; do
    path=
    if [[ $arg == @* ]]; then path=${arg#@}
    elif [[ $previous == --file || $previous == --parameters ]]; then path=$arg; fi
    if [[ -n $path && -f $path ]]; then printf 'FILE%s%s%s%s\n' "$US" "$path" "$US" "$(<"$path")"; fi
    previous=$arg
  done
  if [[ $prog == uv ]]; then
    for name in $(compgen -v ENTRA_); do printf 'ENV%s%s%s%s\n' "$US" "$name" "$US" "${!name}"; done
  fi
} >> "$STUB_LOG"

case $prog in
  curl) echo '{"status": "ok"}'; exit 0 ;;
  az) ;;
  *) exit 0 ;;
esac

EXISTING=" " ROLES="|" SECRET_KEY="" REDIRECT_URIS=""
# shellcheck disable=SC1090
source "$STUB_STATE"
line=" $* "
option() { local want=$1; shift; while (($#)); do [[ $1 == "$want" ]] && { echo "$2"; return; }; shift; done; }
case $line in
  " account show "*) printf 'Test subscription\t00000000-0000-0000-0000-000000000000\n' ;;
  " acr show "*--query\ id*) echo "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r" ;;
  " group show "*) [[ $EXISTING == *" group "* ]] ;;
  " acr show "*) [[ $EXISTING == *" acr "* ]] ;;
  " appservice plan show "*) [[ $EXISTING == *" plan "* ]] ;;
  " webapp show "*) [[ $EXISTING == *" webapp "* ]] ;;
  " identity show "*--query\ id*) echo "/subscriptions/0/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/i" ;;
  " identity show "*--query\ clientId*) echo "3d1f5c2b-7a4e-4b8f-9c61-2e0d8a7b5f43" ;;
  " identity show "*--query\ principalId*) echo "9a6e2d47-1c3b-4f5a-8e20-7b4c1d9f6a85" ;;
  " identity show "*) [[ $EXISTING == *" identity "* ]] ;;
  " ad app federated-credential show "*) [[ $EXISTING == *" fic "* ]] ;;
  " webapp identity assign "*) echo "11111111-2222-3333-4444-555555555555" ;;
  " role assignment list "*)
    role=$(option --role "$@")
    if [[ $ROLES == *"|$role|"* ]]; then echo "/assignment/1"; fi ;;
  " keyvault show "*) echo "/subscriptions/0/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/v" ;;
  " webapp config appsettings list "*) echo "$SECRET_KEY" ;;
  " ad app show "*) printf '%s\n' "$REDIRECT_URIS" ;;
esac
