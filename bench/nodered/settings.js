// Node-RED's settings for the bench's peer (bench/peer.py starts it with --settings this file): no editor,
// nothing installed at run time, warnings only in the log, as lean as Node-RED runs.
module.exports = {
    flowFile: "flows.json",
    uiHost: "127.0.0.1",
    httpAdminRoot: false,
    credentialSecret: false,
    functionExternalModules: false,
    externalModules: { autoInstall: false, palette: { allowInstall: false } },
    logging: { console: { level: "warn", metrics: false, audit: false } },
    telemetry: { enabled: false }
};
