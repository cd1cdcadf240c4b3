// Runs telegram-test-api (an emulated Bot API server, MIT) for tests/e2e: `node server.js PORT`.
// Prints "READY <url>" once listening; stops cleanly on SIGTERM/SIGINT.
const TelegramServer = require('telegram-test-api');

const port = Number(process.argv[2] || 9000);
const server = new TelegramServer({ port, host: '127.0.0.1', storeTimeout: 600 });

server.start().then(() => {
  process.stdout.write(`READY ${server.config.apiURL}\n`);
}, (err) => {
  process.stderr.write(`cannot start: ${err}\n`);
  process.exit(1);
});

async function stop() {
  await server.stop();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
