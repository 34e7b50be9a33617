// The `express4` devDependency is `npm:express@^4`: the same API as the `express` typings describe.
declare module "express4" {
  import express from "express";
  export default express;
}
