import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BadRequest,
  Conflict,
  NotFound,
  RemoteError,
  StratusError,
  ValidationError,
  defineError,
  deserializeError,
  lookupError,
  serializeError,
} from './errors.js';

describe('error registry', () => {
  it('gives each error a code, status, title and default message', () => {
    const err = new NotFound();
    assert.ok(err instanceof StratusError);
    assert.ok(err instanceof Error);
    assert.equal(err.code, 'NotFound');
    assert.equal(err.status, 404);
    assert.equal(err.title, 'Not Found');
    assert.equal(err.message, 'The resource could not be found.');
    assert.equal(err.name, 'NotFound');
  });

  it('keeps a custom message and details', () => {
    const err = new Conflict('Duplicate entry', { field: 'name' });
    assert.equal(err.message, 'Duplicate entry');
    assert.deepEqual(err.details, { field: 'name' });
    assert.equal(err.status, 409);
  });

  it('supports sub-classing through parent', () => {
    const err = new ValidationError('bad name');
    assert.ok(err instanceof BadRequest);
    assert.equal(err.status, 400);
    assert.equal(err.code, 'ValidationError');
  });

  it('refuses to define the same code twice', () => {
    defineError('TestOnlyUnique', 418, 'teapot');
    assert.throws(() => defineError('TestOnlyUnique', 418, 'teapot'), /already defined/);
    assert.equal(lookupError('TestOnlyUnique')?.status, 418);
  });

  it('round-trips through JSON as the same class', () => {
    const ImageNotFound = defineError('TestImageNotFound', 404, 'Image not found.', {
      parent: NotFound,
    });
    const wire = JSON.parse(
      JSON.stringify(new ImageNotFound('Image abc not found', { id: 'abc' })),
    );
    const back = deserializeError(wire);
    assert.ok(back instanceof ImageNotFound);
    assert.ok(back instanceof NotFound);
    assert.equal(back.message, 'Image abc not found');
    assert.deepEqual(back.details, { id: 'abc' });
  });

  it('turns foreign errors into RemoteError, keeping the original type', () => {
    const wire = serializeError(new TypeError('x is undefined'));
    assert.equal(wire.code, 'RemoteError');
    const back = deserializeError(wire);
    assert.ok(back instanceof RemoteError);
    assert.equal(back.status, 500);
    assert.match(back.message, /TypeError: x is undefined/);
  });

  it('turns unknown codes into RemoteError', () => {
    const back = deserializeError({ code: 'NoSuchCodeAnywhere', message: 'boom' });
    assert.ok(back instanceof RemoteError);
    assert.equal(back.details?.['remoteCode'], 'NoSuchCodeAnywhere');
  });
});
