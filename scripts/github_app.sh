# Sourced by deploy.sh for --github-app, before the functions are deployed: the queue between the
# webhook and the private worker, the account the queue's OIDC tokens are for, the grants between
# them, and the app manifest to create the GitHub App from (docs/github-app.md).
# Uses deploy.sh's project, region, prefix, dry_run, domain and its helpers run, quote and runtime_account.

tasks_account="$REVIEW_WORKER_SERVICE_ACCOUNT"
queue_name="$prefix-reviews"

# The account Cloud Tasks signs each dispatch's OIDC token as; the worker accepts only it.
if [ "$dry_run" = 1 ]; then
  echo "gcloud iam service-accounts describe $tasks_account --project $project >/dev/null 2>&1 ||"
  echo "  gcloud iam service-accounts create ${tasks_account%%@*} --project $project --display-name 'CodeRevAI review queue'"
elif ! gcloud iam service-accounts describe "$tasks_account" --project "$project" >/dev/null 2>&1; then
  gcloud iam service-accounts create "${tasks_account%%@*}" --project "$project" --display-name "CodeRevAI review queue"
fi
# The webhook (as the runtime account) creates tasks, with OIDC tokens for the queue's account.
run gcloud projects add-iam-policy-binding "$project" --member "serviceAccount:$(runtime_account)" \
  --role roles/cloudtasks.enqueuer --condition None
run gcloud iam service-accounts add-iam-policy-binding "$tasks_account" --project "$project" \
  --member "serviceAccount:$(runtime_account)" --role roles/iam.serviceAccountUser

# Retries with backoff (10 s doubling to 10 min, 8 attempts in a day); at most 2 dispatches a second
# and 4 reviews at once, within the worker's instances and the model's quota.
queue_flags=(--project "$project" --location "$region" --max-dispatches-per-second 2 --max-concurrent-dispatches 4
  --max-attempts 8 --min-backoff 10s --max-backoff 600s --max-doublings 6 --max-retry-duration 86400s)
if [ "$dry_run" = 0 ] && gcloud tasks queues describe "$queue_name" --project "$project" --location "$region" >/dev/null 2>&1; then
  run gcloud tasks queues update "$queue_name" "${queue_flags[@]}"
else
  run gcloud tasks queues create "$queue_name" "${queue_flags[@]}"
fi

# Where GitHub sends deliveries and the setup redirect: the front end's domain when the functions
# are behind it, else the functions' own URLs.
if [ -n "$domain" ]; then
  app_base="https://$domain/api"
  webhook_url="$app_base/webhooks/github" setup_url="$app_base/github/setup"
else
  webhook_url="https://$region-$project.cloudfunctions.net/github-webhook"
  setup_url="https://$region-$project.cloudfunctions.net/github-app/setup"
fi
manifest_file="$stage/_github-app-manifest.json"
python3 scripts/github_app_manifest.py --webhook-url "$webhook_url" --setup-url "$setup_url" \
  ${domain:+--homepage "https://$domain"} > "$manifest_file"
echo "GitHub App manifest ($manifest_file): create the app from it at https://github.com/settings/apps/new"
echo "(or an organization's /organizations/ORG/settings/apps/new); docs/github-app.md has the one-step form:"
sed 's/^/  /' "$manifest_file"
