// Runs Zigbee2MQTT `<device>/set` payloads through the real zigbee-herdsman-converters (the version pinned in
// package.json) and answers with the ZCL commands a bulb would receive, instead of sending them.
//
// One JSON request per line on stdin, one JSON answer per line on stdout:
//   {"op":"describe","bulb":B}            -> {"definition": what Zigbee2MQTT publishes for it in bridge/devices}
//   {"op":"set","bulb":B,"at":s,"payload":{...}}  -> {"zcl":[{cluster,command,payload}], "state":{...}}
// B = {"name","model_id","manufacturer_name","manufacturer_id","options"?}: what the bulb itself reports at
// its interview, and its Zigbee2MQTT device options; the definition is found by the converters' own lookup
// (findByDevice).
// `at` is the time in seconds: Date.now() follows it, so the converters' IKEA freeze tracking
// (src/lib/ikea.ts, trackFreezing) sees the time the room would have sent the message at.
//
// `set` dispatches as Zigbee2MQTT's publish step does (zigbee2mqtt lib/extension/publish.ts, onMQTTMessage,
// lines 145-290 at 2.12.1): keys sorted state/brightness first or last, one converter per key, each converter
// used once, meta {endpoint_name, options, message, device, state, mapped}, and the optimistic state of
// each result merged into the device's state for the next message.
"use strict";

const readline = require("node:readline");
const zhc = require("zigbee-herdsman-converters");

zhc.setLogger({debug() {}, info() {}, warning() {}, error() {}});

let now = 0;
Date.now = () => now;

class Device {
    constructor(bulb) {
        this.ieeeAddr = `0x00158d00${String(bulb.index).padStart(8, "0")}`;
        this.type = "Router";
        this.modelID = bulb.model_id;
        this.manufacturerName = bulb.manufacturer_name;
        this.manufacturerID = bulb.manufacturer_id;
        this.softwareBuildID = bulb.software_build_id;
        this.powerSource = "Mains (single phase)";
        this.interviewCompleted = true;
        this.meta = {};
        this.customClusters = {};
        this.endpoints = [];
    }
    getEndpoint(id) {
        return this.endpoints.find((e) => e.ID === id);
    }
    save() {}
}

class Endpoint {
    constructor(device, id) {
        this.ID = id;
        this.deviceIeeeAddress = device.ieeeAddr;
        this._device = device;
        this.meta = {};
        this.attributes = {};
        this.binds = [];
        this.configuredReportings = [];
        this.sent = [];
    }
    getDevice() {
        return this._device;
    }
    getClusterAttributeValue(cluster, attribute) {
        return (this.attributes[cluster] || {})[attribute];
    }
    supportsInputCluster() {
        return true;
    }
    supportsOutputCluster() {
        return false;
    }
    async command(cluster, command, payload) {
        this.sent.push({cluster, command, payload: {...payload}});
    }
    async read(cluster, attributes) {
        this.sent.push({cluster, command: "read", payload: {attributes}});
        return {};
    }
    async write(cluster, payload) {
        this.sent.push({cluster, command: "write", payload: {...payload}});
    }
    save() {}
}

const bulbs = new Map();

async function bulbFor(spec) {
    let bulb = bulbs.get(spec.name);
    if (bulb) return bulb;
    const device = new Device({...spec, index: bulbs.size + 1});
    const endpoint = new Endpoint(device, 1);
    device.endpoints.push(endpoint);
    const definition = await zhc.findByDevice(device);
    if (!definition) throw new Error(`no definition for model id ${spec.model_id}`);
    const endpoints = typeof definition.endpoint === "function" ? definition.endpoint(device) : {};
    if (endpoints.default !== undefined) {
        endpoint.ID = endpoints.default;
    }
    // What the interview reads from the bulb: its physical colour-temperature range (Zigbee2MQTT clamps to it,
    // lib/light.ts findColorTempRange). Taken from the range the definition exposes for this model.
    const ct = lightFeatures(definition).find((f) => f.name === "color_temp");
    if (ct) {
        endpoint.attributes.lightingColorCtrl = {colorTempPhysicalMin: ct.value_min, colorTempPhysicalMax: ct.value_max};
    }
    bulb = {device, endpoint, definition, state: {}, options: spec.options || {}};
    bulbs.set(spec.name, bulb);
    return bulb;
}

function exposesOf(definition, device) {
    return typeof definition.exposes === "function" ? definition.exposes(device, {}) : definition.exposes;
}

function lightFeatures(definition) {
    const light = exposesOf(definition, undefined).find((e) => e.type === "light");
    return light ? light.features : [];
}

function describe(bulb) {
    // zigbee2mqtt lib/extension/bridge.ts getDefinitionPayload and lib/model/device.ts exposes() (+ linkquality)
    const {definition, device} = bulb;
    const exposes = JSON.parse(JSON.stringify(exposesOf(definition, device)));
    exposes.push({access: 1, category: "diagnostic", description: "Link quality (signal strength)", label: "Linkquality",
        name: "linkquality", property: "linkquality", type: "numeric", unit: "lqi", value_max: 255, value_min: 0});
    return {
        source: "native",
        model: definition.model,
        vendor: definition.vendor,
        description: definition.description,
        exposes,
        supports_ota: !!definition.ota,
        options: JSON.parse(JSON.stringify(definition.options || [])),
    };
}

async function publish(bulb, message) {
    const {definition, endpoint, device} = bulb;
    const converters = definition.toZigbee;
    const entries = Object.entries(message);
    const sorter = typeof message.state === "string" && message.state.toLowerCase() === "off" ? 1 : -1;
    entries.sort((a) => (["state", "brightness", "brightness_percent"].includes(a[0]) ? sorter : sorter * -1));
    const used = [];
    const errors = [];
    let optimistic = {};
    endpoint.sent = [];
    for (const [key, value] of entries) {
        const converter = converters.find((c) => (!c.key || c.key.includes(key)) && !c.endpoints);
        if (converter && used.includes(converter)) continue;
        if (!converter) {
            errors.push(`No converter available for '${key}'`);
            continue;
        }
        const meta = {endpoint_name: undefined, options: bulb.options, message: {...message}, device, state: bulb.state,
            membersState: undefined, mapped: definition, publish: () => {}};
        try {
            const result = await converter.convertSet(endpoint, key, value, meta);
            if (result && result.state) optimistic = {...optimistic, ...result.state};
        } catch (error) {
            errors.push(`Publish 'set' '${key}' failed: '${error.message}'`);
        }
        used.push(converter);
    }
    bulb.state = {...bulb.state, ...optimistic};
    return {zcl: endpoint.sent, state: bulb.state, errors};
}

async function handle(request) {
    const bulb = await bulbFor(request.bulb);
    if (request.op === "describe") return {definition: describe(bulb)};
    if (request.op === "set") {
        now = Math.round(request.at * 1000);
        return publish(bulb, request.payload);
    }
    throw new Error(`unknown op ${request.op}`);
}

const lines = readline.createInterface({input: process.stdin});
let queue = Promise.resolve();
lines.on("line", (line) => {
    queue = queue.then(async () => {
        let answer;
        try {
            answer = await handle(JSON.parse(line));
        } catch (error) {
            answer = {error: String(error && error.stack ? error.stack : error)};
        }
        process.stdout.write(`${JSON.stringify(answer)}\n`);
    });
});
