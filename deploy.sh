#!/usr/bin/env bash
# Deploys CodeRevAI Functions to Google Cloud: the migration job first (Cloud Run job running
# `alembic upgrade head`), then every function (Cloud Functions gen2, python312), each from a
# staged source directory holding its main.py, the `shared` and `coderevai_core` packages and requirements.txt.
#
#   ./deploy.sh --project P --region R [--functions history,billing] [--sql-instance P:R:I]
#               [--env-file FILE] [--skip-migrations] [--dry-run] [--db-max-connections N]
#               [--domain app.example.com --frontend-service WEB [--frontend-region R]]
#               [--github-app]
#               [--model-provider gemini|openai [--openai-base-url URL] [--openai-model NAME]]
#
# Settings come from the environment (or --env-file, same format as .env.example). Secret values
# (DATABASE_URL, tokens, keys) go to Secret Manager as coderevai-<name> (created when missing, from
# the value in the environment) and reach the functions through --set-secrets; the rest goes in
# through --env-vars-file. --dry-run prints every gcloud command instead of running it.
# --db-max-connections N is the database's connection limit (default 100: Cloud SQL's max_connections
# on a 3.75 GB instance, db-custom-1-3840; behind PgBouncer, its max_client_conn): each function
# gets --max-instances, --concurrency and a pool (DATABASE_POOL_SIZE, DATABASE_MAX_OVERFLOW) so that
# the sum of max-instances x (pool + overflow) stays within N less headroom for migrations and
# admin; it prints the arithmetic, and stops before any gcloud call when N is too small.
# --domain puts the functions behind the front end's domain (its Cloud Run service WEB): a global
# external Application Load Balancer routing the paths of shared/routes.py to the functions and
# everything else to the front end, with a Google-managed certificate (docs/deploy.md).
# --github-app adds the GitHub App (docs/github-app.md): the webhook, the private review worker, the
# link function, the Cloud Tasks queue between them with its service account, and prints the app
# manifest for one-step app creation; without it those functions are not deployed.
# --model-provider openai reviews with any server speaking OpenAI's chat-completions API at
# --openai-base-url (OPENAI_BASE_URL; unset: OpenAI's) running --openai-model (OPENAI_MODEL), its key
# OPENAI_API_KEY (optional for servers that need none) in Secret Manager; gemini (the default) is
# GEMINI_API_KEY or Vertex AI. Only the chosen provider's key reaches the functions.
set -euo pipefail
cd "$(dirname "$0")"

project="" region="" only="" sql_instance="" env_file="" dry_run=0 skip_migrations=0 db_max_connections=100
domain="" frontend_service="" frontend_region="" model_provider="" openai_base_url="" openai_model="" github_app=0
runtime="python312" prefix="coderevai"
# The GitHub App's functions: deployed with --github-app only.
APP_FUNCTIONS="github_webhook review_worker github_app"
is_app_function() { [[ " $APP_FUNCTIONS " == *" $1 "* ]]; }

die() { echo "deploy.sh: $*" >&2; exit 1; }
usage() { sed -n '2,/^[^#]/{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --project) project="${2:-}"; shift 2 ;;
    --region) region="${2:-}"; shift 2 ;;
    --functions) only="${2:-}"; shift 2 ;;
    --sql-instance) sql_instance="${2:-}"; shift 2 ;;
    --env-file) env_file="${2:-}"; shift 2 ;;
    --skip-migrations) skip_migrations=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    --db-max-connections) db_max_connections="${2:-}"; shift 2 ;;
    --domain) domain="${2:-}"; shift 2 ;;
    --frontend-service) frontend_service="${2:-}"; shift 2 ;;
    --frontend-region) frontend_region="${2:-}"; shift 2 ;;
    --github-app) github_app=1; shift ;;
    --model-provider) model_provider="${2:-}"; shift 2 ;;
    --openai-base-url) openai_base_url="${2:-}"; shift 2 ;;
    --openai-model) openai_model="${2:-}"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "deploy.sh: unknown option $1" >&2; usage 2 ;;
  esac
done

if [ -n "$env_file" ]; then
  [ -f "$env_file" ] || die "--env-file $env_file does not exist"
  set -a; # shellcheck disable=SC1090
  . "$env_file"; set +a
fi
project="${project:-${GOOGLE_CLOUD_PROJECT:-}}"
region="${region:-${GOOGLE_CLOUD_REGION:-}}"
[ -n "$project" ] || die "set --project (or GOOGLE_CLOUD_PROJECT)"
[ -n "$region" ] || die "set --region (or GOOGLE_CLOUD_REGION)"
[ "$dry_run" = 1 ] || command -v gcloud >/dev/null || die "gcloud is not on PATH: install the Google Cloud CLI (https://cloud.google.com/sdk) or use --dry-run"
if [ -n "$domain$frontend_service$frontend_region" ]; then
  [ -n "$domain" ] || die "--frontend-service and --frontend-region go with --domain (the front end's domain)"
  [ -n "$frontend_service" ] || die "--domain needs --frontend-service (the front end's Cloud Run service, the load balancer's default backend)"
  [[ "$domain" =~ ^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$ ]] || die "--domain '$domain' is not a lowercase host name such as app.example.com"
  frontend_region="${frontend_region:-$region}"
  # Behind the load balancer X-Forwarded-For gains its hop: per-address limits (metrics) must skip it.
  TRUSTED_PROXY_HOPS="${TRUSTED_PROXY_HOPS:-2}"
  command -v python3 >/dev/null || die "python3 is not on PATH (it writes the URL map from shared/routes.py)"
fi

if [ "$github_app" = 1 ]; then
  for var in GITHUB_APP_ID GITHUB_APP_PRIVATE_KEY GITHUB_WEBHOOK_SECRET; do
    [ -n "${!var:-}" ] && continue
    # The first dry run is how the app gets created (it prints the manifest), so it cannot need the app yet.
    [ "$dry_run" = 1 ] || die "--github-app needs $var (create the app from the manifest first: deploy.sh --github-app --dry-run prints it; docs/github-app.md)"
    echo "deploy.sh: $var is not set: shown as <$var>; a real deploy needs it (create the app from the manifest below)" >&2
    printf -v "$var" '<%s>' "$var"
    export "${var?}"
  done
  # The queue between the webhook and the worker, and the account its OIDC tokens are for.
  CLOUD_TASKS_QUEUE="projects/$project/locations/$region/queues/$prefix-reviews"
  REVIEW_WORKER_URL="https://$region-$project.cloudfunctions.net/review-worker"
  REVIEW_WORKER_SERVICE_ACCOUNT="${REVIEW_WORKER_SERVICE_ACCOUNT:-$prefix-tasks@$project.iam.gserviceaccount.com}"
fi

# Every setting of shared/config.py reaches the functions through exactly one of these lists
# (tests/test_settings_lists.py fails when a setting is in none of them, or a name here is no setting):
# SECRET_VARS through Secret Manager (--set-secrets, each function only those secrets_for names),
# PLAIN_VARS in every function's --env-vars-file, APP_PLAIN_VARS in the GitHub App's functions' only
# (the others would refuse to start with GITHUB_APP_ID and no app key), SET_BY_DEPLOY written by this
# script itself.
SECRET_VARS="DATABASE_URL DIRECT_URL UPSTASH_REDIS_REST_TOKEN REDIS_URL GEMINI_API_KEY OPENAI_API_KEY CLERK_JWT_KEY CLERK_SECRET_KEY STRIPE_SECRET_KEY STRIPE_WEBHOOK_SECRET GITHUB_TOKEN GITHUB_APP_PRIVATE_KEY GITHUB_WEBHOOK_SECRET GITHUB_APP_CLIENT_SECRET"
PLAIN_VARS="
  LOG_LEVEL ALLOWED_ORIGINS TRUSTED_PROXY_HOPS
  DATABASE_POOLER DATABASE_POOL_TIMEOUT_SECONDS
  UPSTASH_REDIS_REST_URL RATE_LIMITS RATE_LIMIT_WINDOW_SECONDS RATE_LIMIT_PREFIX RATE_LIMIT_TIMEOUT_SECONDS RATE_LIMIT_BREAKER_SECONDS PLAN_CACHE_SECONDS API_KEY_CACHE_SECONDS
  GEMINI_MODEL GEMINI_BASE_URL GEMINI_TIMEOUT_SECONDS GEMINI_MAX_ATTEMPTS GEMINI_RETRY_DELAY_SECONDS GOOGLE_GENAI_USE_VERTEXAI GOOGLE_CLOUD_PROJECT GOOGLE_CLOUD_LOCATION
  MODEL_PROVIDER OPENAI_BASE_URL OPENAI_MODEL OPENAI_RESPONSE_FORMAT OPENAI_TIMEOUT_SECONDS OPENAI_MAX_ATTEMPTS OPENAI_RETRY_DELAY_SECONDS MODEL_CONTEXT_TOKENS MODEL_OUTPUT_TOKENS REVIEW_LANGUAGE
  REVIEW_CACHE_TTL_SECONDS STATIC_TOOL_TIMEOUT_SECONDS
  CLERK_AUTHORIZED_PARTIES CLERK_API_URL
  STRIPE_PRICE_ID_PRO STRIPE_API_BASE BILLING_SUCCESS_URL BILLING_CANCEL_URL
  STRIPE_EVENT_RETENTION_DAYS GITHUB_DELIVERY_RETENTION_DAYS GITHUB_REVIEW_RUN_RETENTION_DAYS
  GITHUB_API_URL GITHUB_TIMEOUT_SECONDS REPO_ARCHIVE_MAX_BYTES REVIEW_REPO_BATCH_TOKENS REVIEW_REPO_MAX_BATCHES REVIEW_REPO_PARALLELISM
"
APP_PLAIN_VARS="
  GITHUB_APP_ID GITHUB_APP_SLUG GITHUB_APP_CLIENT_ID GITHUB_WEB_URL GITHUB_APP_SETUP_RETURN_URL
  CLOUD_TASKS_QUEUE CLOUD_TASKS_API_URL REVIEW_WORKER_URL REVIEW_WORKER_SERVICE_ACCOUNT REVIEW_WORKER_CERTS_URL
  GITHUB_REVIEW_MAX_FILES GITHUB_REVIEW_MAX_TOKENS GITHUB_REVIEW_LIMITS GITHUB_REVIEW_WINDOW_SECONDS
"
SET_BY_DEPLOY="APP_ENV DATABASE_POOL_SIZE DATABASE_MAX_OVERFLOW"  # production; each function's pool (scripts/connection_budget.sh)
for var in $SET_BY_DEPLOY; do
  [ -z "${!var:-}" ] || echo "deploy.sh: warning: $var is set by deploy.sh itself; the environment's value is not used" >&2
done
# The review model's provider (flags over the environment); a function gets only the chosen one's key.
MODEL_PROVIDER="${model_provider:-${MODEL_PROVIDER:-gemini}}"
OPENAI_BASE_URL="${openai_base_url:-${OPENAI_BASE_URL:-}}"
OPENAI_MODEL="${openai_model:-${OPENAI_MODEL:-}}"
case "$MODEL_PROVIDER" in
  gemini) unset OPENAI_API_KEY ;;
  openai)
    [ -n "$OPENAI_MODEL" ] || die "--model-provider openai needs --openai-model (OPENAI_MODEL: the model, or Azure's deployment, to review with)"
    unset GEMINI_API_KEY GOOGLE_GENAI_USE_VERTEXAI ;;
  *) die "--model-provider must be gemini or openai, not '$MODEL_PROVIDER'" ;;
esac
# Gemini through Vertex AI: the runtime service account's own credentials, so no API key secret.
case "${GOOGLE_GENAI_USE_VERTEXAI:-}" in
  [Tt]rue|1) vertex=1; GOOGLE_CLOUD_PROJECT="$project"; unset GEMINI_API_KEY ;;
  *) vertex=0; unset GOOGLE_GENAI_USE_VERTEXAI GOOGLE_CLOUD_PROJECT GOOGLE_CLOUD_LOCATION ;;
esac
COMMON="DATABASE_URL UPSTASH_REDIS_REST_TOKEN REDIS_URL CLERK_JWT_KEY CLERK_SECRET_KEY"
secrets_for() {  # which secrets each function gets: only what it uses
  case "$1" in
    review_code|generate_diff) echo "$COMMON GEMINI_API_KEY OPENAI_API_KEY" ;;  # the provider's, whichever is set
    review_repo) echo "$COMMON GEMINI_API_KEY OPENAI_API_KEY GITHUB_TOKEN" ;;
    billing) echo "$COMMON STRIPE_SECRET_KEY" ;;
    # Production settings want a limiter store and a Clerk key in every function; the webhook makes
    # no Stripe API call, so it gets the signing secret and not the API key.
    stripe_webhook) echo "$COMMON STRIPE_WEBHOOK_SECRET" ;;
    # The webhook verifies deliveries and reads the app's slug; the worker reviews as the app.
    github_webhook) echo "$COMMON GITHUB_WEBHOOK_SECRET GITHUB_APP_PRIVATE_KEY" ;;
    review_worker) echo "$COMMON GEMINI_API_KEY OPENAI_API_KEY GITHUB_APP_PRIVATE_KEY GITHUB_WEBHOOK_SECRET" ;;
    github_app) echo "$COMMON GITHUB_APP_PRIVATE_KEY GITHUB_WEBHOOK_SECRET GITHUB_APP_CLIENT_SECRET" ;;
    # history, keys, health, metrics: what production settings want of every function (they refuse
    # to start without the database, the limiter's store and a Clerk key); health checks the first
    # two, metrics rate-limits by client address, keys signs callers in.
    *) echo "$COMMON" ;;
  esac
}

# Memory and timeout by function: a review may wait on the model for GEMINI_MAX_ATTEMPTS x
# GEMINI_TIMEOUT_SECONDS (OPENAI_* likewise; 3 x 60 s by default); a repository review runs up to 12 batches, 4 at a
# time, then a synthesis call, and holds the unpacked archive in memory.
resources_for() {
  case "$1" in
    review_repo|review_worker) echo "--memory 1Gi --timeout 900s" ;;
    review_code|generate_diff) echo "--memory 512Mi --timeout 300s" ;;
    *) echo "--memory 256Mi --timeout 60s" ;;
  esac
}

# Production refuses to start without these; fail here rather than after a deploy.
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set (for Cloud SQL: postgresql://USER:PASS@/DB?host=/cloudsql/PROJECT:REGION:INSTANCE)"
[ -n "${UPSTASH_REDIS_REST_URL:-}${REDIS_URL:-}" ] || die "set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (or REDIS_URL)"
[ -z "${UPSTASH_REDIS_REST_URL:-}" ] || [ -n "${UPSTASH_REDIS_REST_TOKEN:-}" ] || die "UPSTASH_REDIS_REST_TOKEN is not set"
[ -n "${CLERK_JWT_KEY:-}${CLERK_SECRET_KEY:-}" ] || die "set CLERK_JWT_KEY or CLERK_SECRET_KEY"
if [ -n "${STRIPE_WEBHOOK_SECRET:-}" ]; then  # the webhook copies plans to Clerk and maps prices to plans
  [ -n "${CLERK_SECRET_KEY:-}" ] || die "CLERK_SECRET_KEY is not set (the Stripe webhook copies plans to Clerk)"
  [ -n "${STRIPE_PRICE_ID_PRO:-}" ] || die "STRIPE_PRICE_ID_PRO is not set (the Stripe webhook maps prices to plans)"
fi

quote() { local out; out=$(printf '%q ' "$@"); echo "${out% }"; }

run() {
  if [ "$dry_run" = 1 ]; then
    quote "$@"
  else
    "$@"
  fi
}

secret_name() { echo "$prefix-$(echo "$1" | tr 'A-Z_' 'a-z-')"; }

ensure_secret() {  # the secret's latest version holds the environment's value: created, or rotated
  local var="$1" name; name=$(secret_name "$1")
  if [ "$dry_run" = 1 ]; then
    echo "gcloud secrets describe $name --project $project || gcloud secrets create $name --project $project --replication-policy automatic --data-file - <<< \"\$$var\""
    echo "gcloud secrets versions access latest --secret $name --project $project  # differs from \$$var: gcloud secrets versions add $name --project $project --data-file - <<< \"\$$var\""
    return
  fi
  if ! gcloud secrets describe "$name" --project "$project" >/dev/null 2>&1; then
    printf '%s' "${!var}" | gcloud secrets create "$name" --project "$project" --replication-policy automatic --data-file - >/dev/null
    echo "created secret $name"
  elif [ "$(gcloud secrets versions access latest --secret "$name" --project "$project" 2>/dev/null)" != "${!var}" ]; then
    # A rotated value in the environment must reach the functions, which read :latest.
    printf '%s' "${!var}" | gcloud secrets versions add "$name" --project "$project" --data-file - >/dev/null
    echo "added a new version of secret $name"
  fi
}

set_secrets_flag() {  # VAR=secret:latest,... for the variables that are set
  local out="" var
  for var in "$@"; do
    [ -n "${!var:-}" ] || continue
    out="${out:+$out,}$var=$(secret_name "$var"):latest"
  done
  echo "$out"
}

env_vars_file() {  # YAML, so values with commas (ALLOWED_ORIGINS) survive; FUNCTION adds its pool
  local file="$1" fn="${2:-}" var
  {
    echo "APP_ENV: production"
    [ -z "$fn" ] || pool_env_for "$fn"
    local vars="$PLAIN_VARS"
    if [ -n "$fn" ] && is_app_function "$fn"; then vars="$vars $APP_PLAIN_VARS"; fi
    for var in $vars; do
      [ -n "${!var:-}" ] || continue
      printf '%s: "%s"\n' "$var" "$(printf '%s' "${!var}" | sed 's/\\/\\\\/g; s/"/\\"/g')"
    done
  } > "$file"
}

stage="${DEPLOY_STAGE_DIR:-build/deploy}"
rm -rf "$stage"; mkdir -p "$stage"

stage_source() {  # a directory Cloud Build can take as it is: main.py + shared/ + coderevai_core/ + requirements.txt
  local dir="$1" main="$2"
  mkdir -p "$dir"
  [ -z "$main" ] || cp "$main" "$dir/main.py"
  cp -r shared "$dir/shared"
  # The core shared with the command line, copied beside shared/ rather than installed from a path in
  # requirements.txt: the source directory is on the path as it is, and Cloud Build builds nothing more.
  cp -r core/coderevai_core "$dir/coderevai_core"
  cp requirements.txt "$dir/requirements.txt"
  find "$dir" -name '__pycache__' -prune -exec rm -rf {} +
}

all_functions=$(for f in functions/*/main.py; do fn=$(basename "$(dirname "$f")"); is_app_function "$fn" && [ "$github_app" = 0 ] || echo "$fn"; done)
if [ -n "$only" ]; then
  functions=$(echo "$only" | tr ',' ' ')
  for fn in $functions; do [ -f "functions/$fn/main.py" ] || die "no function '$fn' (have: $(echo $all_functions))"; done
  for fn in $functions; do ! is_app_function "$fn" || [ "$github_app" = 1 ] || die "'$fn' is the GitHub App's: deploy it with --github-app"; done
else
  functions=$all_functions
fi

# shellcheck source=scripts/connection_budget.sh
. scripts/connection_budget.sh
budget_connections "$db_max_connections" $all_functions || exit 1

if [ -n "$domain" ]; then
  # A typo here would leave the domain answering 404s after every other step; say so first.
  if [ "$dry_run" = 1 ]; then
    echo "gcloud run services describe $frontend_service --project $project --region $frontend_region  # the front end must exist"
  else
    gcloud run services describe "$frontend_service" --project "$project" --region "$frontend_region" >/dev/null 2>&1 \
      || die "no Cloud Run service '$frontend_service' in $frontend_region (the front end: --frontend-service, --frontend-region)"
  fi
fi

for var in $SECRET_VARS; do
  [ -z "${!var:-}" ] || ensure_secret "$var"
done

if [ "$skip_migrations" = 0 ]; then
  job_dir="$stage/_migrate"
  stage_source "$job_dir" ""
  cp -r migrations alembic.ini "$job_dir/"
  printf 'web: alembic upgrade head\n' > "$job_dir/Procfile"
  env_vars_file "$stage/_migrate.env.yaml"
  job_flags=(--project "$project" --region "$region" --source "$job_dir" --command alembic --args upgrade,head
    --env-vars-file "$stage/_migrate.env.yaml" --set-secrets "$(set_secrets_flag DATABASE_URL DIRECT_URL)" --max-retries 0)
  [ -z "$sql_instance" ] || job_flags+=(--set-cloudsql-instances "$sql_instance")
  run gcloud run jobs deploy "$prefix-migrate" "${job_flags[@]}"
  run gcloud run jobs execute "$prefix-migrate" --project "$project" --region "$region" --wait
fi

runtime_account() {  # the functions' and jobs' service account: RUNTIME_SERVICE_ACCOUNT, else Compute Engine's default
  if [ -n "${RUNTIME_SERVICE_ACCOUNT:-}" ]; then
    echo "$RUNTIME_SERVICE_ACCOUNT"
  elif [ "$dry_run" = 1 ]; then
    echo 'PROJECT_NUMBER-compute@developer.gserviceaccount.com'
  else
    echo "$(gcloud projects describe "$project" --format 'value(projectNumber)')-compute@developer.gserviceaccount.com"
  fi
}

# The retention purge (shared/retention.py: StripeEvent, GitHubDelivery, GitHubReviewRun) with either
# webhook that writes such rows: a Cloud Run job, run daily by Cloud Scheduler as the runtime service
# account (docs/billing.md). Its settings are in PLAIN_VARS, which its env-vars file holds.
if [[ " $(echo $functions) " == *" stripe_webhook "* || " $(echo $functions) " == *" github_webhook "* ]]; then
  purge_dir="$stage/_purge"
  stage_source "$purge_dir" ""
  printf 'web: python -m shared.retention\n' > "$purge_dir/Procfile"
  env_vars_file "$stage/_purge.env.yaml"
  purge_flags=(--project "$project" --region "$region" --source "$purge_dir" --command python
    --args=-m,shared.retention --env-vars-file "$stage/_purge.env.yaml"
    --set-secrets "$(set_secrets_flag $COMMON)" --max-retries 1 --task-timeout 600s)
  [ -z "$sql_instance" ] || purge_flags+=(--set-cloudsql-instances "$sql_instance")
  run gcloud run jobs deploy "$prefix-purge" "${purge_flags[@]}"
  scheduler_account=$(runtime_account)
  run gcloud run jobs add-iam-policy-binding "$prefix-purge" --project "$project" --region "$region" \
    --member "serviceAccount:$scheduler_account" --role roles/run.invoker
  schedule_flags=(--project "$project" --location "$region" --schedule "17 3 * * *" --time-zone Etc/UTC
    --uri "https://$region-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/$project/jobs/$prefix-purge:run"
    --http-method POST --oauth-service-account-email "$scheduler_account")
  if [ "$dry_run" = 0 ] && gcloud scheduler jobs describe "$prefix-purge" --project "$project" --location "$region" >/dev/null 2>&1; then
    run gcloud scheduler jobs update http "$prefix-purge" "${schedule_flags[@]}"
  else
    run gcloud scheduler jobs create http "$prefix-purge" "${schedule_flags[@]}"
  fi
fi

if [ "$vertex" = 1 ]; then
  run gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$(runtime_account)" \
    --role roles/aiplatform.user --condition None
fi

if [ "$github_app" = 1 ]; then
  # shellcheck source=scripts/github_app.sh
  . scripts/github_app.sh
fi

for fn in $functions; do
  dir="$stage/$fn"
  stage_source "$dir" "functions/$fn/main.py"
  env_vars_file "$stage/$fn.env.yaml" "$fn"
  name=$(echo "$fn" | tr '_' '-')  # gen2 function names are lowercase with dashes
  # The worker is private: only the queue's account may invoke it (and it checks the OIDC token too).
  access="--allow-unauthenticated"
  [ "$fn" != review_worker ] || access="--no-allow-unauthenticated"
  # shellcheck disable=SC2046
  run gcloud functions deploy "$name" --gen2 --runtime "$runtime" --project "$project" --region "$region" \
    --source "$dir" --entry-point "$fn" --trigger-http "$access" \
    $(resources_for "$fn") $(scaling_flags_for "$fn") --env-vars-file "$stage/$fn.env.yaml" \
    --set-secrets "$(set_secrets_flag $(secrets_for "$fn"))"
  [ "$dry_run" = 0 ] || sed 's/^/#   /' "$stage/$fn.env.yaml"  # what the function's environment holds
  if [ -n "$sql_instance" ]; then
    # A gen2 function is a Cloud Run service: the Cloud SQL socket is attached there.
    run gcloud run services update "$name" --project "$project" --region "$region" --add-cloudsql-instances "$sql_instance"
  fi
done
echo "deployed: $(echo $functions)"

if [ "$github_app" = 1 ] && [[ " $(echo $functions) " == *" review_worker "* ]]; then
  run gcloud functions add-invoker-policy-binding review-worker --project "$project" --region "$region" \
    --member "serviceAccount:$REVIEW_WORKER_SERVICE_ACCOUNT"
fi

if [ -n "$domain" ]; then
  # shellcheck source=scripts/load_balancer.sh
  . scripts/load_balancer.sh
fi
