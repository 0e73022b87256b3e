# Varnish as a shared cache in front of the cache-tests origin, for
# conformance/run.sh, which replaces @ORIGIN_HOST@ and @ORIGIN_PORT@ and runs
#   varnishd -F -n RUN -a 127.0.0.1:PORT -f THIS -s malloc,64M -T none \
#     -p default_ttl=0 -p default_grace=0 -p default_keep=3600
#
# Choices: the Debian package's default VCL (a backend and no logic), so
# Varnish's built-in VCL decides, as it does out of the box. The parameters
# are the ones the cache-tests project itself uses for Varnish:
# - default_ttl=0: a response without explicit freshness is not cached for
#   a fixed 120 s (Varnish's default); the suite's README names such
#   "default caching" as what makes its dependency tests fail;
# - default_grace=0: serve stale only when the origin allows it
#   (stale-while-revalidate sets grace per object);
# - default_keep=3600: keep expired objects an hour so that they can be
#   revalidated with a conditional request (RFC 9111 section 4.3).
vcl 4.1;

backend default {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
}
