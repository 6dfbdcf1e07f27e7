# Sourced by deploy.sh for --domain, after the functions are deployed: puts them behind the front
# end's domain, so the browser's __session cookie (sent only to its own origin) reaches them.
#
#   address :443 -> HTTPS proxy (managed certificate) -> URL map -> each route of shared/routes.py
#   to its function's backend service (path rewritten to what the function expects), anything else
#   to the front end's; address :80 -> a redirect to https.
#
# Each resource is described first and created only when missing, so running it again creates
# nothing twice; the URL map is imported every time, so a changed routes table takes effect.
# Uses deploy.sh's project, region, prefix, stage, dry_run, domain, frontend_service,
# frontend_region and its helpers run, quote and die.

lb_exists() {  # lb_exists KIND NAME SCOPE...
  local kind="$1" name="$2"; shift 2
  gcloud compute "$kind" describe "$name" --project "$project" "$@" >/dev/null 2>&1
}

lb_ensure() {  # lb_ensure KIND NAME SCOPE... -- CREATE_FLAGS...
  local kind="$1" name="$2" scope=(); shift 2
  while [ "$1" != "--" ]; do scope+=("$1"); shift; done
  shift
  if [ "$dry_run" = 1 ]; then
    echo "$(quote gcloud compute "$kind" describe "$name" --project "$project" "${scope[@]}") >/dev/null 2>&1 ||"
    echo "  $(quote gcloud compute "$kind" create "$name" --project "$project" "${scope[@]}" "$@")"
  elif ! lb_exists "$kind" "$name" "${scope[@]}"; then
    gcloud compute "$kind" create "$name" --project "$project" "${scope[@]}" "$@"
  fi
}

lb_serverless_backend() {  # lb_serverless_backend BACKEND NEG REGION CLOUD_RUN_SERVICE
  local backend="$1" neg="$2" neg_region="$3" service="$4" groups
  # --cloud-run-service, not --cloud-function-name: a gen2 function is a Cloud Run service of the
  # same name (deploy.sh attaches Cloud SQL to it as one), Google documents serverless NEGs for
  # Cloud Run as pointing at Cloud Run functions (2nd gen) too, and --cloud-function-name is the
  # form made for 1st gen functions' URLs.
  lb_ensure network-endpoint-groups "$neg" --region "$neg_region" -- \
    --network-endpoint-type serverless --cloud-run-service "$service"
  lb_ensure backend-services "$backend" --global -- --load-balancing-scheme EXTERNAL_MANAGED
  local add=(gcloud compute backend-services add-backend "$backend" --project "$project" --global
    --network-endpoint-group "$neg" --network-endpoint-group-region "$neg_region")
  local describe=(gcloud compute backend-services describe "$backend" --project "$project" --global
    --format 'value(backends[].group)')
  if [ "$dry_run" = 1 ]; then
    echo "$(quote "${describe[@]}") | grep -q /networkEndpointGroups/$neg ||"
    echo "  $(quote "${add[@]}")"
    return
  fi
  groups=$("${describe[@]}")
  case ";$groups;" in
    *"/networkEndpointGroups/$neg;"*) ;;
    *) "${add[@]}" ;;
  esac
}

lb_warn_origin() {  # the functions must accept the front end's origin, now also theirs
  local var="$1" why="$2" list
  list=",$(printf '%s' "${!var:-}" | tr -d ' '),"
  case "$list" in
    *",https://$domain,"*) ;;
    *) echo "deploy.sh: warning: $var does not list https://$domain ($why)" >&2 ;;
  esac
}

lb_warn_origin ALLOWED_ORIGINS "cookie-signed POST and DELETE from the web app are refused otherwise"
lb_warn_origin CLERK_AUTHORIZED_PARTIES "Clerk session tokens name the origin that asked for them"

# The routes whose function is in this checkout: a route to a function not deployed stays with the
# front end rather than pointing at a backend with nothing behind it.
routed=()
for fn in $(python3 scripts/routes.py functions); do
  if is_app_function "$fn" && [ "$github_app" = 0 ]; then
    continue  # the GitHub App's routes stay with the front end until --github-app deploys them
  elif [ -f "functions/$fn/main.py" ]; then
    routed+=("$fn")
  else
    echo "deploy.sh: warning: the routes table names '$fn' but functions/$fn/main.py does not exist; its routes go to the front end" >&2
  fi
done

for fn in "${routed[@]}"; do
  name=$(echo "$fn" | tr '_' '-')
  lb_serverless_backend "$prefix-$name" "$prefix-$name-neg" "$region" "$name"
done
lb_serverless_backend "$prefix-frontend" "$prefix-frontend-neg" "$frontend_region" "$frontend_service"

url_map="$prefix-url-map"
url_map_file="$stage/_url-map.yaml"
routed_list=$(IFS=,; echo "${routed[*]}")
python3 scripts/routes.py url-map --project "$project" --domain "$domain" --name "$url_map" --prefix "$prefix" \
  --functions "$routed_list" > "$url_map_file"
run gcloud compute url-maps import "$url_map" --project "$project" --global --source "$url_map_file" --quiet
[ "$dry_run" = 0 ] || sed 's/^/#   /' "$url_map_file"

# A managed certificate cannot change its domains: one per domain, named after it.
cert="$prefix-${domain//./-}"; cert="${cert:0:63}"; cert="${cert%-}"
lb_ensure ssl-certificates "$cert" --global -- --domains "$domain"

https_proxy="$prefix-https-proxy"
if [ "$dry_run" = 1 ]; then
  echo "$(quote gcloud compute target-https-proxies describe "$https_proxy" --project "$project" --global) >/dev/null 2>&1 &&"
  echo "  $(quote gcloud compute target-https-proxies update "$https_proxy" --project "$project" --global --ssl-certificates "$cert" --url-map "$url_map") ||"
  echo "  $(quote gcloud compute target-https-proxies create "$https_proxy" --project "$project" --global --ssl-certificates "$cert" --url-map "$url_map")"
elif lb_exists target-https-proxies "$https_proxy" --global; then
  # Already there: point it at this run's certificate (the domain may have changed) and URL map.
  gcloud compute target-https-proxies update "$https_proxy" --project "$project" --global \
    --ssl-certificates "$cert" --url-map "$url_map"
else
  gcloud compute target-https-proxies create "$https_proxy" --project "$project" --global \
    --ssl-certificates "$cert" --url-map "$url_map"
fi

address="$prefix-ip"
lb_ensure addresses "$address" --global -- --ip-version IPV4 --network-tier PREMIUM
lb_ensure forwarding-rules "$prefix-https" --global -- --load-balancing-scheme EXTERNAL_MANAGED \
  --network-tier PREMIUM --address "$address" --target-https-proxy "$https_proxy" --ports 443

# Port 80 answers with a redirect to https, nothing else.
redirect_map="$prefix-http-redirect"
cat > "$stage/_http-redirect.yaml" <<EOF
kind: compute#urlMap
name: $redirect_map
defaultUrlRedirect:
  httpsRedirect: true
  redirectResponseCode: MOVED_PERMANENTLY_DEFAULT
EOF
run gcloud compute url-maps import "$redirect_map" --project "$project" --global \
  --source "$stage/_http-redirect.yaml" --quiet
lb_ensure target-http-proxies "$prefix-http-proxy" --global -- --url-map "$redirect_map"
lb_ensure forwarding-rules "$prefix-http" --global -- --load-balancing-scheme EXTERNAL_MANAGED \
  --network-tier PREMIUM --address "$address" --target-http-proxy "$prefix-http-proxy" --ports 80

if [ "$dry_run" = 1 ]; then
  echo "gcloud compute addresses describe $address --project $project --global --format 'value(address)'  # point $domain's DNS A record at it"
else
  ip=$(gcloud compute addresses describe "$address" --project "$project" --global --format 'value(address)')
  echo "load balancer ready: point $domain's DNS A record at $ip"
  echo "the certificate $cert becomes ACTIVE once that record resolves (usually within an hour):"
  echo "  gcloud compute ssl-certificates describe $cert --project $project --global --format 'value(managed.status)'"
fi
