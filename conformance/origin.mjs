// Starts the cache-tests origin server (the suite's own code, unchanged) bound
// to 127.0.0.1 only: the suite's server.mjs calls listen(port) with no host,
// which would accept connections on every address of the machine.
//
// Environment: ORIGIN_PORT (required), ORIGIN_PIDFILE (default: none).
import http from 'node:http'
import process from 'node:process'

const port = process.env.ORIGIN_PORT
if (!port) {
  console.error('origin.mjs: set ORIGIN_PORT')
  process.exit(2)
}
// server.mjs reads its settings the way `npm run server` passes them.
process.env.npm_config_protocol = 'http'
process.env.npm_config_port = port
process.env.npm_config_pidfile = process.env.ORIGIN_PIDFILE || '/dev/null'

const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (p, ...rest) {
  const cb = rest.find(a => typeof a === 'function')
  return listen.call(this, Number(p), '127.0.0.1', cb)
}

await import('./node_modules/http-cache-tests/server/server.mjs')
