# The database connection budget of deploy.sh (sourced by it; plain bash, no other tools): every
# function's --max-instances, --concurrency and pool, such that the sum over functions of
# max-instances x (DATABASE_POOL_SIZE + DATABASE_MAX_OVERFLOW) stays within the database's limit
# less headroom. docs/deploy.md has the resulting table for two database sizes.

# Per function: concurrency, pool, overflow, weight (its share of the instances the budget allows).
# A request holds a connection for a few round trips (a keyed review holds one while the model
# answers, a repository review's batches each read the cache), so concurrency may exceed the pool:
# a request that finds the pool busy waits DATABASE_POOL_TIMEOUT_SECONDS, then answers 503.
# health's probe is one at a time per instance; metrics never touches the database.
pool_shape_for() {
  case "$1" in
    history) echo "8 2 2 4" ;;
    review_code) echo "8 2 2 3" ;;
    review_repo) echo "4 2 2 1" ;;
    generate_diff) echo "8 1 2 1" ;;
    keys|billing|stripe_webhook) echo "8 1 1 1" ;;
    health) echo "8 1 0 0" ;;
    metrics) echo "40 0 0 0" ;;
    *) echo "8 1 1 1" ;;
  esac
}
NO_DATABASE_MAX_INSTANCES=20  # metrics: bounded by cost, not by the database
MAX_INSTANCES_CAP=100         # Cloud Run's default maximum

# Headroom: Cloud SQL keeps 3 connections for superusers, the migration job takes 1, and an admin's
# psql, scripts/doctor.py or Cloud SQL Studio a few more: 10, or a tenth of a larger limit.
reserved_connections() { local n="$1"; echo $(( n / 10 > 10 ? n / 10 : 10 )); }

# Fills BUDGET_INSTANCES[fn]; prints the arithmetic; fails with the smallest limit that would do.
declare -A BUDGET_INSTANCES=()
budget_connections() {
  local limit="$1" fn; shift
  [[ "$limit" =~ ^[0-9]+$ ]] && [ "$limit" -gt 0 ] || { echo "deploy.sh: --db-max-connections must be a positive whole number, not '$limit'" >&2; return 1; }
  local reserved available used=0 needed=0 concurrency pool overflow weight per
  reserved=$(reserved_connections "$limit")
  available=$(( limit - reserved ))
  declare -A per_instance=() weights=()
  for fn in "$@"; do
    read -r concurrency pool overflow weight <<< "$(pool_shape_for "$fn")"
    per=$(( pool + overflow ))
    if [ "$per" = 0 ]; then
      BUDGET_INSTANCES[$fn]=$NO_DATABASE_MAX_INSTANCES
      continue
    fi
    per_instance[$fn]=$per weights[$fn]=$weight
    BUDGET_INSTANCES[$fn]=1
    needed=$(( needed + per ))
  done
  if [ "$needed" -gt "$available" ]; then
    echo "deploy.sh: --db-max-connections $limit is too small: one instance of each function needs $needed connections, plus $reserved kept for migrations and admin; use at least $(( needed + reserved )) (or a pooler in front of the database, docs/deploy.md)" >&2
    return 1
  fi
  used=$needed
  # One instance at a time to the function furthest below its share (instances x connections per
  # weight, compared by cross-multiplying), while one more fits.
  local best best_load load
  while :; do
    best=""
    for fn in "${!per_instance[@]}"; do
      [ "${weights[$fn]}" -gt 0 ] || continue
      [ $(( used + per_instance[$fn] )) -le "$available" ] || continue
      [ "${BUDGET_INSTANCES[$fn]}" -lt "$MAX_INSTANCES_CAP" ] || continue
      load=$(( BUDGET_INSTANCES[$fn] * per_instance[$fn] ))
      if [ -z "$best" ] || [ $(( load * weights[$best] )) -lt $(( best_load * weights[$fn] )) ] \
        || { [ $(( load * weights[$best] )) -eq $(( best_load * weights[$fn] )) ] && [[ "$fn" < "$best" ]]; }; then
        best=$fn best_load=$load
      fi
    done
    [ -n "$best" ] || break
    BUDGET_INSTANCES[$best]=$(( BUDGET_INSTANCES[$best] + 1 ))
    used=$(( used + per_instance[$best] ))
  done
  echo "connection budget: $limit (--db-max-connections) - $reserved kept for migrations and admin = $available for the functions"
  for fn in "$@"; do
    read -r concurrency pool overflow weight <<< "$(pool_shape_for "$fn")"
    if [ $(( pool + overflow )) = 0 ]; then
      printf '  %-15s max-instances %3d, concurrency %2d, no database connections\n' "$fn" "${BUDGET_INSTANCES[$fn]}" "$concurrency"
    else
      printf '  %-15s max-instances %3d x (pool %d + overflow %d) = %3d connections, concurrency %2d\n' "$fn" \
        "${BUDGET_INSTANCES[$fn]}" "$pool" "$overflow" $(( BUDGET_INSTANCES[$fn] * (pool + overflow) )) "$concurrency"
    fi
  done
  echo "  total $used of $available"
}

# gcloud flags: the instance cap and the requests an instance takes at once. Concurrency above 1
# needs a whole CPU on Cloud Run (a fraction of one serves a request at a time); THREADS (below)
# gives functions-framework's server as many threads as requests.
scaling_flags_for() {
  local concurrency pool overflow weight
  read -r concurrency pool overflow weight <<< "$(pool_shape_for "$1")"
  echo "--max-instances ${BUDGET_INSTANCES[$1]} --concurrency $concurrency --cpu 1"
}

pool_env_for() {  # YAML lines for the function's --env-vars-file
  local concurrency pool overflow weight
  read -r concurrency pool overflow weight <<< "$(pool_shape_for "$1")"
  printf 'DATABASE_POOL_SIZE: "%d"\nDATABASE_MAX_OVERFLOW: "%d"\nTHREADS: "%d"\n' "$pool" "$overflow" "$concurrency"
}
