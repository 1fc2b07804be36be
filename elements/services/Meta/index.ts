import { ElementBase } from "jit-runtime/element";

/**
 * The base class of service elements (services.*): plain server-side functions. An
 * instance of services.NormalType carries its own code (`(Parent) => class extends Parent`).
 */
export class Service extends ElementBase {}

export default Service;
